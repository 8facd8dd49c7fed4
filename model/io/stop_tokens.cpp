// generation_config.json / model config end-of-sequence ids; see stop_tokens.h.
#include "model/io/stop_tokens.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "core/text/json_parse.h"

namespace grpo::model {
namespace {

Error bad_eos(const std::filesystem::path& path, int64_t vocab_size, const std::string& why) {
  return Error(SourceLocation{path.string(), 0, 0}, "eos_token_id must be a token id or a list of token ids (0 <= id < vocab_size " +
                                                     std::to_string(vocab_size) + "); " + why);
}

void add_unique(std::vector<int64_t>& ids, int64_t id) {
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

// generation_config.json's `eos_token_id`: nullopt when the file or the key is absent (or null).
std::optional<std::vector<int64_t>> generation_config_eos(const std::filesystem::path& path, int64_t vocab_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json js = parse_untrusted_json(text, path.string());
  // An empty list names none, like null: older grpo.cpp checkpoints wrote [] for a model without one.
  if (!js.is_object() || !js.contains("eos_token_id") || js["eos_token_id"].is_null()) return std::nullopt;
  const auto& eos = js["eos_token_id"];
  if (eos.is_array() && eos.empty()) return std::nullopt;
  std::vector<int64_t> ids;
  auto add = [&](const nlohmann::json& v) {
    if (!v.is_number_integer())
      throw bad_eos(path, vocab_size, "got " + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    const int64_t id = v.get<int64_t>();
    if (id < 0 || id >= vocab_size) throw bad_eos(path, vocab_size, "got " + std::to_string(id));
    add_unique(ids, id);
  };
  if (eos.is_array()) {
    for (const auto& e : eos) add(e);
  } else {
    add(eos);
  }
  return ids;
}

}  // namespace

std::vector<int64_t> end_of_sequence_ids(const std::filesystem::path& model_dir, const ModelConfig& config,
                                         std::optional<int64_t> tokenizer_eos) {
  std::vector<int64_t> out;
  if (auto ids = generation_config_eos(model_dir / "generation_config.json", config.vocab_size)) {
    out = std::move(*ids);
  } else {
    for (const int64_t id : config.eos_token_ids) {
      if (id < 0 || id >= config.vocab_size)
        throw bad_eos(model_dir / "config.json", config.vocab_size, "got " + std::to_string(id));
      add_unique(out, id);
    }
  }
  if (tokenizer_eos) add_unique(out, *tokenizer_eos);
  return out;
}

}  // namespace grpo::model
