// The one place where LibTorch 1.13 (Debian, CPU) and 2.x (CUDA builds) differ for grpo.cpp.
// Code elsewhere calls these wrappers and never tests TORCH_VERSION itself. It does not paper
// over behaviour differences of numerics; each wrapper computes the same function on both.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#define GRPO_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace grpo::compat {

// Scaled dot-product attention. q: [B, H, Tq, D]; k: [B, H, Tk, D]; v: [B, H, Tk, Dv].
// mask: optional additive float mask broadcastable to [B, H, Tq, Tk] (0 keep, -inf drop) or bool
// (true = keep); is_causal applies a causal mask aligned to the end of k (decode-friendly).
// 2.1+ uses at::scaled_dot_product_attention (fused kernels); 1.13 computes it in plain ops.
inline torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k,
                                                  const torch::Tensor& v,
                                                  const c10::optional<torch::Tensor>& mask,
                                                  bool is_causal, double scale) {
#if GRPO_TORCH_AT_LEAST(2, 1)
  if (!(is_causal && q.size(-2) != k.size(-2)))
    return at::scaled_dot_product_attention(q, k, v, mask, 0.0, is_causal, scale);
#endif
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  const auto tq = q.size(-2), tk = k.size(-2);
  if (is_causal) {
    auto keep = torch::ones({tq, tk}, q.options().dtype(torch::kBool)).tril(tk - tq);
    scores = scores.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
  }
  if (mask.has_value()) {
    if (mask->scalar_type() == torch::kBool)
      scores = scores.masked_fill(mask->logical_not(), -std::numeric_limits<float>::infinity());
    else
      scores = scores + *mask;
  }
  auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
  return torch::matmul(probs, v);
}

// Grouped matrix product for MoE experts: rows [offs[g-1], offs[g]) of x [T, K] times
// mat2[g] [K, N] for each group g, giving [T, N]; offs: int32 end offsets on x's device, so the
// token counts never travel to the host. 2.8+ on CUDA in bf16 (Hopper's grouped GEMM); where
// grouped_mm_supported() is false the caller loops over the experts instead.
inline bool grouped_mm_supported(const torch::Tensor& x) {
#if GRPO_TORCH_AT_LEAST(2, 8)
  return x.is_cuda() && x.scalar_type() == torch::kBFloat16;
#else
  (void)x;
  return false;
#endif
}

inline torch::Tensor grouped_mm(const torch::Tensor& x, const torch::Tensor& mat2, const torch::Tensor& offs) {
#if GRPO_TORCH_AT_LEAST(2, 8)
  return at::_grouped_mm(x, mat2, offs);
#else
  (void)mat2;
  (void)offs;
  TORCH_CHECK(false, "grouped_mm needs LibTorch 2.8+ (this build: ", TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR, ")");
  return x;
#endif
}

// Major.minor of the LibTorch this binary was built against, e.g. "1.13".
inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace grpo::compat
