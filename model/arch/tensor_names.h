// The Hugging Face names of every module and tensor, in one place. Modules register their
// children under these names; where a module fuses checkpoint tensors (qkv_proj, gate_up_proj,
// stacked experts) the tensor table (architecture.h) maps each checkpoint name to its part of
// the fused tensor, building both from the same constants. Nothing else in model/ spells a
// checkpoint name as a literal.
#pragma once

#include <cstdint>
#include <string>

namespace grpo::model::names {

// Top level.
inline constexpr const char* kModel = "model";
inline constexpr const char* kEmbedTokens = "embed_tokens";
inline constexpr const char* kLayers = "layers";
inline constexpr const char* kNorm = "norm";
inline constexpr const char* kLmHead = "lm_head";
inline constexpr const char* kWeight = "weight";
inline constexpr const char* kBias = "bias";

// Decoder layer.
inline constexpr const char* kSelfAttn = "self_attn";
inline constexpr const char* kMlp = "mlp";
inline constexpr const char* kInputLayernorm = "input_layernorm";
inline constexpr const char* kPostAttentionLayernorm = "post_attention_layernorm";

// GQA attention.
inline constexpr const char* kQProj = "q_proj";
inline constexpr const char* kKProj = "k_proj";
inline constexpr const char* kVProj = "v_proj";
inline constexpr const char* kOProj = "o_proj";
inline constexpr const char* kQkvProj = "qkv_proj";  // q, k and v fused (module only; see architecture.h)

// Multi-head latent attention.
inline constexpr const char* kQAProj = "q_a_proj";
inline constexpr const char* kQALayernorm = "q_a_layernorm";
inline constexpr const char* kQBProj = "q_b_proj";
inline constexpr const char* kKvAProjWithMqa = "kv_a_proj_with_mqa";
inline constexpr const char* kKvALayernorm = "kv_a_layernorm";
inline constexpr const char* kKvBProj = "kv_b_proj";

// Feed-forward and MoE.
inline constexpr const char* kGateProj = "gate_proj";
inline constexpr const char* kUpProj = "up_proj";
inline constexpr const char* kDownProj = "down_proj";
inline constexpr const char* kGateUpProj = "gate_up_proj";  // gate and up fused (module only)
inline constexpr const char* kGate = "gate";  // the router
inline constexpr const char* kExperts = "experts";
inline constexpr const char* kSharedExperts = "shared_experts";
inline constexpr const char* kScoreCorrectionBias = "e_score_correction_bias";

// Multi-token prediction module (DeepSeek-V3), stored as model.layers.{num_hidden_layers + k}.
inline constexpr const char* kEnorm = "enorm";
inline constexpr const char* kHnorm = "hnorm";
inline constexpr const char* kEhProj = "eh_proj";
inline constexpr const char* kSharedHead = "shared_head";
inline constexpr const char* kHead = "head";

inline std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }
// "model.layers.{layer}"
inline std::string layer_prefix(int64_t layer) {
  return std::string(kModel) + "." + kLayers + "." + std::to_string(layer);
}

}  // namespace grpo::model::names
