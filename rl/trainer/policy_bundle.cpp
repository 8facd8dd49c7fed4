// Loading a policy with its tokenizer and template, and prompt encoding; see policy_bundle.h.
#include "rl/trainer/policy_bundle.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/model_io.h"

namespace grpo::rl {

std::optional<ChatTemplate> template_named(const std::string& name) {
  if (name == "raw") return std::nullopt;
  return builtin_chat_template(name);
}

std::string PolicyBundle::render_prompt(const datasets::Record& record) const {
  if (!chat_template) {
    require(!record.is_chat(), "template 'raw' cannot render chat messages (record " + record.id + ")");
    return record.prompt;
  }
  std::vector<ChatMessage> messages;
  if (!system_prompt.empty()) messages.push_back({"system", system_prompt});
  if (record.is_chat()) {
    for (const auto& m : record.messages) messages.push_back({m.role, m.content});
  } else {
    messages.push_back({"user", record.prompt});
  }
  return chat_template->render(messages, /*add_generation_prompt=*/true);
}

std::vector<int64_t> PolicyBundle::encode(const std::string& text, bool add_special_tokens) const {
  const auto ids = tokenizer.encode(text, add_special_tokens);
  return {ids.begin(), ids.end()};
}

std::vector<int64_t> PolicyBundle::encode_prompt(const datasets::Record& record) const {
  // A template that writes the BOS text itself must not get a second BOS from the tokenizer.
  const bool template_has_begin = chat_template && !chat_template->begin.empty();
  return encode(render_prompt(record), !template_has_begin);
}

std::string PolicyBundle::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  return tokenizer.decode(std::vector<int>(ids.begin(), ids.end()), skip_special_tokens);
}

namespace {

// generation_config.json's eos_token_id (an id or a list: Qwen2.5-Instruct stops at both
// <|im_end|> and <|endoftext|>) plus the tokenizer's eos token.
std::vector<int64_t> end_of_sequence_ids(const std::filesystem::path& model_dir, const Tokenizer& tokenizer) {
  std::vector<int64_t> ids;
  auto add = [&ids](int64_t id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  const auto path = model_dir / "generation_config.json";
  std::ifstream in(path);
  if (in) {
    try {
      const auto js = nlohmann::json::parse(in);
      const auto eos = js.value("eos_token_id", nlohmann::json());
      if (eos.is_number_integer()) add(eos.get<int64_t>());
      if (eos.is_array())
        for (const auto& e : eos) add(e.get<int64_t>());
    } catch (const nlohmann::json::exception& e) {
      throw Error(SourceLocation{path.string(), 0, 0}, std::string("malformed generation config: ") + e.what());
    }
  }
  if (auto eos = tokenizer.special_ids().eos) add(*eos);
  return ids;
}

}  // namespace

PolicyBundle load_policy_bundle(const PolicyLoad& load) {
  const std::string tok = load.tokenizer.empty() ? load.model_dir.string() : load.tokenizer;
  PolicyBundle b{model::CausalLM(nullptr), Tokenizer::from_file(tok)};
  b.source_dir = load.model_dir;
  if (!load.tokenizer.empty() && std::filesystem::is_directory(load.tokenizer)) b.source_dir = load.tokenizer;
  model::LoadOptions lo;
  lo.device = load.device;
  lo.dtype = load.dtype;
  b.model = model::load_model(load.model_dir, lo);
  const int64_t vocab = b.model->config().vocab_size;
  require(static_cast<int64_t>(b.tokenizer.vocab_size()) <= vocab,
          "tokenizer " + tok + " has " + std::to_string(b.tokenizer.vocab_size()) +
              " tokens but the model's vocab_size is " + std::to_string(vocab));
  b.chat_template = template_named(load.template_name);
  b.system_prompt = load.system_prompt;
  b.stop_token_ids = end_of_sequence_ids(load.model_dir, b.tokenizer);
  return b;
}

}  // namespace grpo::rl
