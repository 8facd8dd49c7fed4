// libFuzzer target for config.json -> ModelConfig (model/arch/config.h), the way
// load_model_config reads it: parse_untrusted_json, then parse_model_config. Properties: a
// rejection is a grpo::Error naming the file (a JSON or other exception escaping is a finding);
// an accepted config satisfies every invariant config.h promises (positive sizes within
// kMaxModelConfigSize, heads a multiple of key-value heads, an even rotary width within
// head_dim, finite positive scales, consistent MoE routing) and a finite positive attention
// scale; saving it (model_config_to_json) and parsing the result gives the same JSON again.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/text/json_parse.h"
#include "fuzz/fuzz_check.h"
#include "model/arch/config.h"

using grpo::fuzz::check;
using grpo::model::ModelConfig;

namespace {

const std::string kName = "fuzz/config.json";

void check_invariants(const ModelConfig& c) {
  for (int64_t size : {c.vocab_size, c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads,
                       c.num_key_value_heads, c.head_dim, c.max_position_embeddings})
    check(size > 0 && size <= grpo::model::kMaxModelConfigSize, "sizes are positive and within the limit");
  check(c.rope.original_max_position_embeddings >= 0 &&
            c.rope.original_max_position_embeddings <= grpo::model::kMaxModelConfigSize,
        "the original context is not negative and within the limit");
  if (!c.is_mla())
    check(c.num_attention_heads % c.num_key_value_heads == 0, "attention heads are a multiple of key-value heads");
  check(c.rope_dim() > 0 && c.rope_dim() % 2 == 0, "the rotary width is even and positive");
  check(c.is_mla() || c.rope_dim() <= c.head_dim, "the rotary width fits a head");
  check(std::isfinite(c.rms_norm_eps) && c.rms_norm_eps > 0, "rms_norm_eps is finite and positive");
  check(std::isfinite(c.rope.theta) && c.rope.theta > 0, "rope_theta is finite and positive");
  check(std::isfinite(c.rope.factor) && c.rope.factor > 0, "the rope factor is finite and positive");
  const double scale = c.attention_scale();
  check(std::isfinite(scale) && scale > 0, "the attention scale is finite and positive");
  if (c.is_mla()) {
    check(c.kv_lora_rank > 0 && c.qk_rope_head_dim > 0 && c.v_head_dim > 0, "MLA widths are positive");
    check(c.q_lora_rank >= 0 && c.qk_nope_head_dim >= 0 && c.n_shared_experts >= 0, "MLA counts are not negative");
  }
  if (c.n_routed_experts > 0) {
    check(c.num_experts_per_tok >= 1 && c.num_experts_per_tok <= c.n_routed_experts, "experts per token in range");
    check(c.n_group > 0 && c.n_routed_experts % c.n_group == 0 && c.topk_group <= c.n_group, "expert groups divide");
    check(c.moe_layer_freq > 0 && c.moe_intermediate_size > 0, "MoE layer frequency and width are positive");
    for (int64_t layer = 0; layer < std::min<int64_t>(c.num_hidden_layers, 64); ++layer) c.is_moe_layer(layer);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ModelConfig config;
  try {
    config = grpo::model::parse_model_config(grpo::parse_untrusted_json(text, kName), kName);
  } catch (const grpo::Error& e) {
    check(std::string(e.what()).rfind(kName, 0) == 0,
          [&] { return "a rejection names the file: " + std::string(e.what()); });
    return 0;
  }
  check_invariants(config);
  const auto saved = grpo::model::model_config_to_json(config);
  try {
    const auto again = grpo::model::model_config_to_json(grpo::model::parse_model_config(saved, "saved.json"));
    check(again == saved,
          [&] { return "a saved config parses back to the same JSON:\n" + saved.dump() + "\n" + again.dump(); });
  } catch (const grpo::Error& e) {
    grpo::fuzz::fail("a saved config parses again: " + std::string(e.what()) + "\n" + saved.dump());
  }
  return 0;
}
