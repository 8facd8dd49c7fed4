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

// Grouped-query attention: q [B, H, Tq, D], k and v [B, Hkv, Tk, D] with H a multiple of Hkv;
// query head h reads kv head h / (H / Hkv), as transformers' repeat_kv arranges. 2.5+ on CUDA
// hands the shared heads to a fused kernel that reads them in place (enable_gqa), when one takes
// these inputs; otherwise K and V are repeated per query head first (a copy each, and a
// reduction of their gradients in the backward).
inline torch::Tensor grouped_query_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                             const c10::optional<torch::Tensor>& mask, bool is_causal, double scale) {
#if GRPO_TORCH_AT_LEAST(2, 5)
  constexpr int64_t kMathBackend = 0;  // sdp::SDPBackend::math: no fused kernel takes the inputs
  if (q.is_cuda() && !(is_causal && q.size(-2) != k.size(-2)) &&
      at::_fused_sdp_choice(q, k, v, mask, 0.0, is_causal, scale, /*enable_gqa=*/true) != kMathBackend)
    return at::scaled_dot_product_attention(q, k, v, mask, 0.0, is_causal, scale, /*enable_gqa=*/true);
#endif
  const int64_t groups = q.size(1) / k.size(1);
  auto repeat = [&](const torch::Tensor& t) {
    return t.unsqueeze(2).expand({t.size(0), t.size(1), groups, t.size(2), t.size(3)})
        .reshape({t.size(0), t.size(1) * groups, t.size(2), t.size(3)});
  };
  return scaled_dot_product_attention(q, repeat(k), repeat(v), mask, is_causal, scale);
}

// FlashAttention over packed variable-length sequences (the varlen kernel; its autograd is
// _flash_attention_backward). q: [total, H, D]; k, v: [total, Hk, D] with H a multiple of Hk
// (FlashAttention reads shared kv heads in place); cu_seqlens: [n + 1] int32 on q's device, each
// sequence's start offset then total; causal within each sequence -> [total, H, D]. Taken on
// CUDA in bf16/fp16 with D <= 256 and D a multiple of 8, from LibTorch 2.5 (where the varlen
// call has been differentiable); where flash_varlen_supported() is false callers mask instead.
inline bool flash_varlen_supported(const torch::Tensor& q) {
#if GRPO_TORCH_AT_LEAST(2, 5)
  const auto t = q.scalar_type();
  return q.is_cuda() && (t == torch::kBFloat16 || t == torch::kHalf) && q.size(-1) <= 256 && q.size(-1) % 8 == 0;
#else
  (void)q;
  return false;
#endif
}

inline torch::Tensor flash_varlen_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                            const torch::Tensor& cu_seqlens, int64_t max_seqlen, double scale) {
#if GRPO_TORCH_AT_LEAST(2, 5)
  auto out = at::_flash_attention_forward(q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen, /*dropout_p=*/0.0,
                                          /*is_causal=*/true, /*return_debug_mask=*/false, scale);
  return std::get<0>(out);
#else
  (void)k;
  (void)v;
  (void)cu_seqlens;
  (void)max_seqlen;
  (void)scale;
  TORCH_CHECK(false, "flash_varlen_attention needs LibTorch 2.5+ (this build: ", TORCH_VERSION_MAJOR, ".",
              TORCH_VERSION_MINOR, ")");
  return q;
#endif
}

// RMSNorm: weight · x / sqrt(mean(x²) + eps) over the last dim, statistics in float32. Where the
// CUDA kernel exists (2.8+, x and weight of one dtype) forward and backward are one fused kernel
// each, which rounds x·rstd·weight once; elsewhere transformers' eager form, which rounds x·rstd
// to x's dtype before scaling (the two differ by at most one rounding of the output).
inline torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
#if GRPO_TORCH_AT_LEAST(2, 8)
  if (x.is_cuda() && weight.scalar_type() == x.scalar_type()) return at::rms_norm(x, {x.size(-1)}, weight, eps);
#endif
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
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

// acc (float32) += a · b. For bf16/f16 a and b on CUDA (2.8+) one cuBLAS GEMM that reads and
// writes acc in float32 (no product tensor, no separate add, no rounding of the product to a's
// dtype); elsewhere the product in a's dtype is added to acc.
inline void addmm_into_float32_(torch::Tensor& acc, const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(acc.scalar_type() == torch::kFloat32, "addmm_into_float32_: the accumulator must be float32");
#if GRPO_TORCH_AT_LEAST(2, 8)
  const auto t = a.scalar_type();
  if (acc.is_cuda() && (t == torch::kBFloat16 || t == torch::kHalf) && b.scalar_type() == t) {
    at::addmm_out(acc, acc, a, b, torch::kFloat32);
    return;
  }
#endif
  if (a.scalar_type() == torch::kFloat32)
    acc.addmm_(a, b);
  else
    acc.add_(torch::matmul(a, b));
}

// Major.minor of the LibTorch this binary was built against, e.g. "1.13".
inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

}  // namespace grpo::compat
