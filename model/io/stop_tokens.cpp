// generation_config.json / config.json end-of-sequence ids; see stop_tokens.h.
#include "model/io/stop_tokens.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

namespace grpo::model {
namespace {

// `eos_token_id` of one JSON file: nullopt when the file or the key is absent (or null).
std::optional<std::vector<int64_t>> eos_ids_of(const std::filesystem::path& path, int64_t vocab_size) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const SourceLocation where{path.string(), 0, 0};
  nlohmann::json js;
  try {
    js = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(where, std::string("not valid JSON: ") + e.what());
  }
  // An empty list names none, like null: older grpo.cpp checkpoints wrote [] for a model without one.
  if (!js.is_object() || !js.contains("eos_token_id") || js["eos_token_id"].is_null()) return std::nullopt;
  const auto& eos = js["eos_token_id"];
  if (eos.is_array() && eos.empty()) return std::nullopt;
  auto bad = [&](const std::string& why) {
    return Error(where, "eos_token_id must be a token id or a list of token ids (0 <= id < vocab_size " +
                            std::to_string(vocab_size) + "); " + why);
  };
  std::vector<int64_t> ids;
  auto add = [&](const nlohmann::json& v) {
    if (!v.is_number_integer()) throw bad("got " + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    const int64_t id = v.get<int64_t>();
    if (id < 0 || id >= vocab_size) throw bad("got " + std::to_string(id));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  if (eos.is_array()) {
    for (const auto& e : eos) add(e);
  } else {
    add(eos);
  }
  return ids;
}

}  // namespace

std::vector<int64_t> end_of_sequence_ids(const std::filesystem::path& model_dir, std::optional<int64_t> tokenizer_eos,
                                         int64_t vocab_size) {
  auto ids = eos_ids_of(model_dir / "generation_config.json", vocab_size);
  if (!ids) ids = eos_ids_of(model_dir / "config.json", vocab_size);
  std::vector<int64_t> out = ids.value_or(std::vector<int64_t>{});
  if (tokenizer_eos && std::find(out.begin(), out.end(), *tokenizer_eos) == out.end()) out.push_back(*tokenizer_eos);
  return out;
}

}  // namespace grpo::model
