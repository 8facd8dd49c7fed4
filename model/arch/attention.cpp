// Grouped-query attention; see attention.h.
#include "model/arch/attention.h"

#include "core/torch/compat.h"
#ifdef GRPO_WITH_CUDA
#include "model/kernels/attention/decode_attention.h"
#include "model/kernels/attention/fused_rope.h"
#endif
#include "model/arch/rope.h"
#include "model/arch/tensor_names.h"
#include "model/arch/varlen_attention.h"

namespace grpo::model {

namespace {

// Attention over a cache: the `groups` query heads that share a kv head become extra query rows
// of that head ([B, Hkv, groups * T, D]), so cached keys/values are read in place, never repeated
// per query head. Query head h reads kv head h / groups, as repeat_kv does.
torch::Tensor attend_grouped(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& mask, double scale) {
  const int64_t b = q.size(0), heads = q.size(1), t = q.size(2), kv_heads = k.size(1), groups = heads / kv_heads;
  auto folded = q.reshape({b, kv_heads, groups * t, q.size(3)});
  // mask [B, 1, T, Tk]: with one query per row it broadcasts as is; otherwise repeat it per group.
  auto folded_mask = t == 1 ? mask
                            : mask.unsqueeze(2).expand({b, 1, groups, t, mask.size(-1)}).reshape({b, 1, groups * t, -1});
  auto out = compat::scaled_dot_product_attention(folded, k, v, folded_mask, false, scale);
  return out.reshape({b, heads, t, v.size(3)});
}

// RoPE on the q and k heads of the fused projection [B, T, H + 2·Hkv, D], split into {q, k, v}
// ([B, T, h, D] each); the v heads pass through.
std::vector<torch::Tensor> rotate_and_split(const torch::Tensor& qkv, const ForwardContext& ctx, int64_t heads,
                                            int64_t kv_heads) {
#ifdef GRPO_WITH_CUDA
  if (fused_rope_applies(qkv, ctx.cos, ctx.sin)) return fused_rope_split(qkv, ctx.cos, ctx.sin, heads, kv_heads);
#endif
  torch::Tensor rotated;
  if (ctx.qkv_cos.defined()) {  // all heads in one contiguous pass (v heads meet the identity)
    rotated = apply_rope(qkv, ctx.qkv_cos, ctx.qkv_sin, false);
  } else {  // partial rotary: q and k heads through apply_rope
    auto parts = qkv.split_with_sizes({heads + kv_heads, kv_heads}, 2);
    rotated = torch::cat({apply_rope(parts[0], ctx.cos, ctx.sin, false), parts[1]}, 2);
  }
  // Splits, not narrows: their backward is one cat, not zeroed full-size gradients.
  return rotated.split_with_sizes({heads, kv_heads, kv_heads}, 2);
}

}  // namespace

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const ForwardContext& ctx,
                     double scale) {
  auto keys = k, values = v;
  const int64_t groups = q.size(1) / k.size(1);
#ifdef GRPO_WITH_CUDA
  // One token per row over the cache: row b's keys are [0, position], as ctx.attn_mask says.
  if (ctx.step && q.size(2) == 1 && !q.requires_grad() && decode_attention_applies(q, k, v))
    return decode_attention(q, k, v, ctx.step->positions, scale);
#endif
  if (ctx.cu_seqlens.defined()) return packed_attention(q, k, v, ctx.cu_seqlens, ctx.max_seqlen, scale);
  if (ctx.cache && groups > 1) return attend_grouped(q, k, v, ctx.attn_mask, scale);
  const auto mask = ctx.attn_mask.defined() ? c10::optional<torch::Tensor>(ctx.attn_mask) : c10::nullopt;
  const bool causal = !ctx.attn_mask.defined();
  if (groups > 1 && k.size(1) == 1) {  // one shared head (MLA latent): a stride-0 view, no copy
    keys = k.expand({k.size(0), q.size(1), k.size(2), k.size(3)});
    values = v.expand({v.size(0), q.size(1), v.size(2), v.size(3)});
  } else if (groups > 1) {
    return compat::grouped_query_attention(q, k, v, mask, causal, scale);
  }
  return compat::scaled_dot_product_attention(q, keys, values, mask, causal, scale);
}

GqaAttention::GqaAttention(const ModelConfig& c, int64_t layer)
    : layer_(layer), heads_(c.num_attention_heads), kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim),
      scale_(c.attention_scale()) {
  qkv_proj = register_module(names::kQkvProj,
                             Linear(c.hidden_size, (heads_ + 2 * kv_heads_) * head_dim_, c.qkv_bias));
  o_proj = register_module(names::kOProj, Linear(heads_ * head_dim_, c.hidden_size, c.o_bias));
}

torch::Tensor GqaAttention::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  const int64_t b = x.size(0), t = x.size(1);
  auto qkv = qkv_proj(x).view({b, t, heads_ + 2 * kv_heads_, head_dim_});
#ifdef GRPO_WITH_CUDA
  // A decode step on CUDA (inference only: the kernels have no backward): rotation and the cache
  // write of the new token in one kernel, then attention over the cache in place.
  if (ctx.cache && ctx.step && t == 1 && ctx.qkv_cos.defined() && !qkv.requires_grad() &&
      rope_cache_write_applies(qkv, ctx.cos, ctx.cache->keys().at(layer_), ctx.cache->values().at(layer_))) {
    auto q = rope_and_cache_write(qkv, ctx.cos, ctx.sin, ctx.cache->keys().at(layer_), ctx.cache->values().at(layer_),
                                  ctx.step->slots, ctx.step->write_pos, heads_);
    const auto [keys, values] = ctx.cache->visible_kv(layer_, *ctx.step);
    return o_proj(attend(q, keys, values, ctx, scale_).transpose(1, 2).reshape({b, t, heads_ * head_dim_}));
  }
#endif
  const auto parts = rotate_and_split(qkv, ctx, heads_, kv_heads_);
  auto q = parts[0].transpose(1, 2);
  auto k = parts[1];
  auto v = parts[2];
  torch::Tensor keys, values;
  if (ctx.cache) {
    std::tie(keys, values) = ctx.cache->write_kv(layer_, *ctx.step, k, v);
    keys = keys.to(q.scalar_type());
    values = values.to(q.scalar_type());
  } else {
    keys = k.transpose(1, 2);
    values = v.transpose(1, 2);
  }
  auto out = attend(q, keys, values, ctx, scale_);
  return o_proj(out.transpose(1, 2).reshape({b, t, heads_ * head_dim_}));
}

}  // namespace grpo::model
