// A Hugging Face config.json as a typed ModelConfig for the architectures grpo.cpp runs: llama,
// qwen2, deepseek_v2, deepseek_v3. Missing fields take transformers' defaults for that
// model_type; RoPE is read from `rope_parameters` (transformers 5) or the legacy `rope_theta` +
// `rope_scaling`. The original JSON is kept so that saving writes back every field we do not
// model. It does not read generation_config.json and knows nothing about tokenizers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grpo::model {

enum class Arch { kLlama, kQwen2, kDeepseekV2, kDeepseekV3 };

struct RopeConfig {
  std::string type = "default";  // default | linear | llama3 | yarn
  double theta = 10000.0;
  double factor = 1.0;
  double partial_rotary_factor = 1.0;
  int64_t original_max_position_embeddings = 0;  // 0 = not given
  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  // yarn
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale, mscale_all_dim, attention_factor;
  bool truncate = true;
};

struct ModelConfig {
  std::string model_type;  // "llama", "qwen2", "deepseek_v2", "deepseek_v3"
  Arch arch = Arch::kLlama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // GQA models; DeepSeek's HF config sets it to qk_rope_head_dim
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;     // q/k/v projections (Qwen2: always; Llama: attention_bias)
  bool o_bias = false;       // o_proj (Llama/DeepSeek: attention_bias)
  bool mla_a_bias = false;   // q_a_proj / kv_a_proj_with_mqa (DeepSeek: attention_bias)
  bool mlp_bias = false;
  RopeConfig rope;

  // Multi-head latent attention (deepseek_*). q_lora_rank 0 = plain q_proj.
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  bool rope_interleave = false;  // DeepSeek checkpoints store rope dims as (even, odd) pairs

  // DeepSeekMoE. n_routed_experts 0 = dense model.
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  std::string scoring_func;  // "softmax" (V2) | "sigmoid" (V3)
  std::string topk_method;   // "greedy" | "group_limited_greedy" (V2) | "noaux_tc" (V3)
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  int64_t num_nextn_predict_layers = 0;  // MTP modules after the last layer

  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  nlohmann::json raw;  // the config.json this came from (empty when built in code)

  bool is_mla() const { return arch == Arch::kDeepseekV2 || arch == Arch::kDeepseekV3; }
  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t rope_dim() const;  // the rotated width per head
  // Softmax scale of attention: head_dim^-0.5, and for MLA with YaRN the mscale^2 correction.
  double attention_scale() const;
};

// Any size a config.json gives (widths, counts, lengths) is at most this: far above every
// published model (vocabularies ~2^18, contexts ~2^23), far below what would overflow the
// products of sizes the model and its caches allocate.
constexpr int64_t kMaxModelConfigSize = int64_t{1} << 24;

// Throws grpo::Error naming `source` and the field for a wrong type, an unknown model_type
// (listing the supported ones) or an unsupported RoPE type. An accepted config has positive
// vocab/hidden/intermediate sizes, layers, heads, key-value heads, head_dim and context, none
// above kMaxModelConfigSize; attention heads a multiple of key-value heads (GQA); an even,
// positive rotary width at most head_dim; finite positive rms_norm_eps, rope_theta and factor;
// for MLA positive kv_lora_rank, qk_rope_head_dim and v_head_dim and no negative count; for
// MoE num_experts_per_tok in [1, n_routed_experts], n_group dividing n_routed_experts,
// topk_group <= n_group and a positive moe_layer_freq and moe_intermediate_size.
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& source = "config.json");
// dir/config.json, parsed with parse_untrusted_json (nesting bounded; errors name the file).
ModelConfig load_model_config(const std::filesystem::path& dir);
// config.json content: `raw` with every modelled field overwritten (so unknown fields survive).
nlohmann::json model_config_to_json(const ModelConfig& config);

}  // namespace grpo::model
