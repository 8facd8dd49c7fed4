// RMSNorm and its fused residual add, linear construction and the SwiGLU MLP; see layers.h.
#include "model/arch/layers.h"

#include "core/torch/compat.h"
#include "model/arch/tensor_names.h"
#ifdef GRPO_WITH_CUDA
#include "model/kernels/norm_activation/fused_add_rms_norm.h"
#include "model/kernels/norm_activation/fused_rms_norm.h"
#include "model/kernels/norm_activation/fused_swiglu.h"
#endif

namespace grpo::model {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter(names::kWeight, torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
#ifdef GRPO_WITH_CUDA
  // Training: one kernel each way (fused_rms_norm.h). Inference keeps compat::rms_norm, whose
  // rounding the decode kernels reproduce.
  if (torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad()) &&
      fused_rms_norm_applies(x, weight))
    return fused_rms_norm(x, weight, eps_);
#endif
  return compat::rms_norm(x, weight, eps_);
}

torch::Tensor add_and_norm_(torch::Tensor& residual, const torch::Tensor& delta, RMSNormImpl& norm) {
#ifdef GRPO_WITH_CUDA
  if (fused_add_rms_norm_applies(residual, delta, norm.weight))
    return fused_add_rms_norm_(residual, delta, norm.weight, norm.eps());
#endif
  residual.add_(delta);
  return norm.forward(residual);
}

torch::Tensor add_sum_and_norm_(torch::Tensor& residual, const torch::Tensor& partials, RMSNormImpl& norm) {
#ifdef GRPO_WITH_CUDA
  if (fused_add_sum_rms_norm_applies(residual, partials, norm.weight))
    return fused_add_sum_rms_norm_(residual, partials, norm.weight, norm.eps());
#endif
  residual.add_(partials.sum(0).to(residual.scalar_type()).view(residual.sizes()));
  return norm.forward(residual);
}

void set_rope_tables(ForwardContext& ctx, const ModelConfig& c, const RopeFrequencies& freqs,
                     const torch::Tensor& positions, torch::Dtype dtype) {
  std::tie(ctx.cos, ctx.sin) = rope_cos_sin(freqs, positions, dtype);
  if (c.is_mla() || c.rope_dim() != c.head_dim) return;
  const int64_t rotated = c.num_attention_heads + c.num_key_value_heads, plain = c.num_key_value_heads;
  auto sizes = ctx.cos.sizes().vec();  // [B, T, 1, D]
  auto per_head = [&](const torch::Tensor& table, double identity) {
    sizes[2] = rotated;
    auto rot = table.expand(sizes);
    sizes[2] = plain;
    return torch::cat({rot, torch::full(sizes, identity, table.options())}, 2);
  };
  ctx.qkv_cos = per_head(ctx.cos, 1.0);
  ctx.qkv_sin = per_head(ctx.sin, 0.0);
}

// chunk, not narrow: the backward of a split is one cat, the backward of each narrow a zeroed
// full-size gradient. On CUDA one kernel each way (fused_swiglu.h).
torch::Tensor swiglu_activation(const torch::Tensor& gate_up) {
#ifdef GRPO_WITH_CUDA
  if (fused_swiglu_applies(gate_up)) return fused_swiglu(gate_up);
#endif
  const auto halves = gate_up.chunk(2, -1);
  return torch::silu(halves[0]) * halves[1];
}

MlpImpl::MlpImpl(int64_t hidden, int64_t intermediate, bool bias) {
  gate_up_proj = register_module(names::kGateUpProj, Linear(hidden, 2 * intermediate, bias));
  down_proj = register_module(names::kDownProj, Linear(intermediate, hidden, bias));
}

torch::Tensor MlpImpl::swiglu(const torch::Tensor& x) { return down_proj(swiglu_activation(gate_up_proj(x))); }

}  // namespace grpo::model
