// Multi-head latent attention (DeepSeek-V2/V3). Queries come from q_proj, or from the LoRA pair
// q_a_proj -> q_a_layernorm -> q_b_proj; keys and values from a compressed latent
// (kv_a_proj_with_mqa -> kv_a_layernorm, expanded per head by kv_b_proj) plus one roped key
// shared by all heads. The q_a/kv_a norms use eps 1e-6 whatever rms_norm_eps says (as in
// transformers). Without a cache (training, parity) K/V are expanded as transformers does. With a
// cache only the latent and the roped key are stored, and attention runs on them with absorbed
// weights: W_UK is folded into the query and W_UV into the output, so decode never expands K/V.
#pragma once

#include "model/arch/layers.h"

namespace grpo::model {

class MlaAttention : public AttentionBase {
 public:
  MlaAttention(const ModelConfig& config, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx) override;

  Linear q_proj{nullptr}, q_a_proj{nullptr}, q_b_proj{nullptr};
  Linear kv_a_proj_with_mqa{nullptr}, kv_b_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_a_layernorm{nullptr}, kv_a_layernorm{nullptr};

 private:
  torch::Tensor expanded(const torch::Tensor& q_nope, const torch::Tensor& q_pe, const torch::Tensor& latent,
                         const torch::Tensor& k_pe, const ForwardContext& ctx);
  torch::Tensor absorbed(const torch::Tensor& q_nope, const torch::Tensor& q_pe, const torch::Tensor& cached,
                         const ForwardContext& ctx);

  int64_t layer_, heads_, nope_, rope_, v_dim_, kv_rank_;
  bool interleave_;
  double scale_;
};

}  // namespace grpo::model
