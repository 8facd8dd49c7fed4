// Multi-head latent attention, expanded and absorbed paths; see mla.h.
#include "model/arch/mla.h"

#include "core/torch/compat.h"
#include "model/arch/attention.h"
#ifdef GRPO_WITH_CUDA
#include "model/kernels/attention/mla_decode_attention.h"
#endif
#include "model/arch/rope.h"
#include "model/arch/tensor_names.h"

namespace grpo::model {
namespace {
constexpr double kLoraNormEps = 1e-6;  // transformers builds q_a/kv_a_layernorm with the default eps

// x [B, H, T, m] times one matrix per head w [H, m, n] -> [B, H, T, n], as one bmm with the heads
// as its batch: a broadcasting matmul would copy w once per batch row.
torch::Tensor per_head_matmul(const torch::Tensor& x, const torch::Tensor& w) {
  const int64_t b = x.size(0), h = x.size(1), t = x.size(2);
  auto rows = x.transpose(0, 1).reshape({h, b * t, x.size(3)});
  if (torch::GradMode::is_enabled() && (rows.requires_grad() || w.requires_grad()))
    return torch::bmm(rows, w).view({h, b, t, w.size(2)}).transpose(0, 1);
  // Without autograd (an out= product has none) the result lands in [B, T, H, n] memory, whose
  // [H, B·T, n] view has strides cuBLAS writes directly: the output projection then reads the
  // heads as one row per token without the copy a [H, B, T, n] result needs (one per layer and
  // decode step).
  auto out = torch::empty({b, t, h, w.size(2)}, rows.options());
  auto heads_first = out.view({b * t, h, w.size(2)}).transpose(0, 1);
  torch::bmm_out(heads_first, rows, w);
  return out.permute({0, 2, 1, 3});
}

}  // namespace

MlaAttention::MlaAttention(const ModelConfig& c, int64_t layer)
    : layer_(layer), heads_(c.num_attention_heads), nope_(c.qk_nope_head_dim), rope_(c.qk_rope_head_dim),
      v_dim_(c.v_head_dim), kv_rank_(c.kv_lora_rank), interleave_(c.rope_interleave), scale_(c.attention_scale()) {
  const int64_t h = c.hidden_size, qk = c.qk_head_dim();
  if (c.q_lora_rank > 0) {
    q_a_proj = register_module(names::kQAProj, Linear(h, c.q_lora_rank, c.mla_a_bias));
    q_a_layernorm = register_module(names::kQALayernorm, RMSNorm(c.q_lora_rank, kLoraNormEps));
    q_b_proj = register_module(names::kQBProj, Linear(c.q_lora_rank, heads_ * qk, false));
  } else {
    q_proj = register_module(names::kQProj, Linear(h, heads_ * qk, false));
  }
  kv_a_proj_with_mqa = register_module(names::kKvAProjWithMqa, Linear(h, kv_rank_ + rope_, c.mla_a_bias));
  kv_a_layernorm = register_module(names::kKvALayernorm, RMSNorm(kv_rank_, kLoraNormEps));
  kv_b_proj = register_module(names::kKvBProj, Linear(kv_rank_, heads_ * (nope_ + v_dim_), false));
  o_proj = register_module(names::kOProj, Linear(heads_ * v_dim_, h, c.o_bias));
}

torch::Tensor MlaAttention::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  const int64_t b = x.size(0), t = x.size(1);
  auto q = q_proj ? q_proj(x) : q_b_proj(q_a_layernorm(q_a_proj(x)));
  q = q.view({b, t, heads_, nope_ + rope_});  // per head: [nope | rope]
  // Splits, not narrows, here and below: a split's backward is one cat, each narrow's a zeroed
  // full-size gradient plus an add.
  const auto q_parts = q.split_with_sizes({nope_, rope_}, -1);
  auto q_nope = q_parts[0].transpose(1, 2);
  auto kv = kv_a_proj_with_mqa(x);  // [latent | rope]
  auto output = [&](const torch::Tensor& out) { return o_proj(out.transpose(1, 2).reshape({b, t, heads_ * v_dim_})); };
#ifdef GRPO_WITH_CUDA
  // A decode step on CUDA (inference only: the kernels have no backward): the new token's norm,
  // rotation and latent cache write in one kernel, then attention over the cache in place.
  if (ctx.cache && ctx.step && t == 1 && !kv.requires_grad() && !q.requires_grad() &&
      mla_rope_cache_write_applies(q, kv, kv_a_layernorm->weight, ctx.cos, ctx.cache->latents().at(layer_))) {
    auto q_pe = mla_rope_and_cache_write(q, kv, kv_a_layernorm->weight, kLoraNormEps, ctx.cos, ctx.sin, interleave_,
                                         ctx.cache->latents().at(layer_), ctx.step->slots, ctx.step->write_pos);
    return output(absorbed(q_nope, q_pe, ctx.cache->visible_latent(layer_, *ctx.step), ctx));
  }
#endif
  auto q_pe = apply_rope(q_parts[1], ctx.cos, ctx.sin, interleave_).transpose(1, 2);
  const auto kv_parts = kv.split_with_sizes({kv_rank_, rope_}, -1);
  auto latent = kv_a_layernorm(kv_parts[0]);
  auto k_pe = apply_rope(kv_parts[1].unsqueeze(2), ctx.cos, ctx.sin, interleave_).transpose(1, 2);
  if (!ctx.cache) return output(expanded(q_nope, q_pe, latent, k_pe, ctx));
  auto entry = torch::cat({latent, k_pe.squeeze(1)}, -1);                          // [B, T, dc + dr]
  auto cached = ctx.cache->write_latent(layer_, *ctx.step, entry).to(q_nope.scalar_type());  // [B, Tk, dc + dr]
  return output(absorbed(q_nope, q_pe, cached, ctx));
}

// q_nope [B,H,T,dn], q_pe [B,H,T,dr], latent [B,T,dc], k_pe [B,1,T,dr] -> [B,H,T,dv].
torch::Tensor MlaAttention::expanded(const torch::Tensor& q_nope, const torch::Tensor& q_pe, const torch::Tensor& latent,
                                     const torch::Tensor& k_pe, const ForwardContext& ctx) {
  const int64_t b = latent.size(0), t = latent.size(1);
  auto kv = kv_b_proj(latent).view({b, t, heads_, nope_ + v_dim_}).transpose(1, 2);  // per head: [k_nope | v]
  const auto parts = kv.split_with_sizes({nope_, v_dim_}, -1);
  const auto& k_nope = parts[0];
  const auto& v = parts[1];
  auto key = torch::cat({k_nope, k_pe.expand({b, heads_, t, rope_})}, -1);
  auto query = torch::cat({q_nope, q_pe}, -1);
  return attend(query, key, v, ctx, scale_);
}

// Same function over the cached latent entries [B, Tk, dc + dr]: score = (W_UK^T q_nope) . c +
// q_pe . k_pe, and the output W_UV (sum_j p_j c_j), so K and V are never materialized per head.
torch::Tensor MlaAttention::absorbed(const torch::Tensor& q_nope, const torch::Tensor& q_pe, const torch::Tensor& cached,
                                     const ForwardContext& ctx) {
  auto w = kv_b_proj->weight.view({heads_, nope_ + v_dim_, kv_rank_});
  auto w_uk = w.narrow(1, 0, nope_);       // [H, dn, dc]
  auto w_uv = w.narrow(1, nope_, v_dim_);  // [H, dv, dc]
  auto q_latent = per_head_matmul(q_nope, w_uk);  // [B, H, T, dc]
  torch::Tensor out_latent;                        // [B, H, T, dc]
#ifdef GRPO_WITH_CUDA
  // A decode step on CUDA (inference only): the tensor-core kernel over the cache in place.
  if (ctx.step && !q_latent.requires_grad() && mla_decode_applies(q_latent, q_pe, cached))
    out_latent = mla_decode_attention(q_latent, q_pe, cached, ctx.step->positions, scale_);
#endif
  if (!out_latent.defined()) {
    auto query = torch::cat({q_latent, q_pe}, -1);
    auto keys = cached.unsqueeze(1);  // one shared "head"
    auto values = cached.narrow(-1, 0, kv_rank_).unsqueeze(1);
    out_latent = attend(query, keys, values, ctx, scale_);
  }
  return per_head_matmul(out_latent, w_uv.transpose(1, 2));  // [B, H, T, dv]
}

}  // namespace grpo::model
