// Grouped-query attention (Llama, Qwen2): q/k/v projections with optional biases (fused into one
// qkv_proj, one GEMM; the tensor table maps q/k/v_proj onto its rows), RoPE in the
// half-rotation layout, K/V heads shared by num_attention_heads / num_key_value_heads query
// heads, attention through grpo::compat::scaled_dot_product_attention. With a cache in the
// context it appends this step's keys/values and attends over the slot's whole history; with
// packed sequences in it, through varlen_attention.h.
// No sliding window, no dropout.
#pragma once

#include "model/arch/layers.h"

namespace grpo::model {

class GqaAttention : public AttentionBase {
 public:
  GqaAttention(const ModelConfig& config, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx) override;

  Linear qkv_proj{nullptr}, o_proj{nullptr};

 private:
  int64_t layer_, heads_, kv_heads_, head_dim_;
  double scale_;
};

// Attention over prepared heads. q: [B, H, T, Dq]; k: [B, Hk, Tk, Dq]; v: [B, Hk, Tk, Dv] with H a
// multiple of Hk (query head h reads kv head h / (H / Hk); compat::grouped_query_attention). Uses
// ctx's mask (or plain causal), or with ctx.cu_seqlens each packed sequence causally on its own
// (packed_attention, B = 1) -> [B, H, T, Dv].
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const ForwardContext& ctx,
                     double scale);

}  // namespace grpo::model
