// RoPE over a whole fused q/k/v projection (training and prefill), forward and backward, as one
// CUDA kernel each: half-rotation layout, full head width, bf16. Plain-C++ interface (no LibTorch
// types) so that nvcc compiles it without the LibTorch headers.
//
// With h = D/2 and ssin the sin table with its first half negated (rope_cos_sin), per rotated
// head and channel j (j^h = (j + h) mod D):
//   forward   y[j] = bf16(bf16(x[j]·cos[j]) + bf16(x[j^h]·ssin[j]))
//   backward  gx[j] = bf16(bf16(g[j]·cos[j]) + bf16(g[j^h]·ssin[j^h]))
// — the bits of apply_rope's roll, two products and a sum, and of autograd's backward of them
// (each product's gradient rounded, the roll's undone, the two added in bf16). Heads at and after
// `rotated_heads` (v) are copied through, as the identity rotation would leave them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct RopeRotateArgs {
  const void* in = nullptr;          // [B·T, heads, D] bf16, contiguous: x (forward) or g (backward)
  const void* cos = nullptr;         // [B·T, D] bf16, contiguous
  const void* signed_sin = nullptr;  // [B·T, D] bf16, contiguous, first half negated
  void* out = nullptr;               // like `in`
  int64_t tokens = 0;                // B·T
  int heads = 0, rotated_heads = 0, head_dim = 0;  // head_dim: a multiple of 16
  bool backward = false;
};

cudaError_t launch_rope_rotate(const RopeRotateArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
