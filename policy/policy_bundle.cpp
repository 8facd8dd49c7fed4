// Loading a policy with its tokenizer and template, and prompt encoding; see policy_bundle.h.
#include "policy/policy_bundle.h"

#include "core/error.h"
#include "model/io/model_io.h"
#include "model/io/stop_tokens.h"

namespace grpo::policy {

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
  const auto tokenizer_eos = b.tokenizer.special_ids().eos;
  b.stop_token_ids = model::end_of_sequence_ids(load.model_dir, b.model->config(),
                                                tokenizer_eos ? std::optional<int64_t>(*tokenizer_eos) : std::nullopt);
  return b;
}

}  // namespace grpo::policy
