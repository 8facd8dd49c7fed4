// RoPE over a whole fused q/k/v projection (training and prefill), forward and backward, as one
// CUDA kernel each, with the split into q, k and v folded in: half-rotation layout, full head
// width, bf16. Plain-C++ interface (no LibTorch types) so that nvcc compiles it without the
// LibTorch headers.
//
// With h = D/2 and ssin the sin table with its first half negated (rope_cos_sin), per rotated
// head and channel j (j^h = (j + h) mod D):
//   forward   y[j] = bf16(bf16(x[j]·cos[j]) + bf16(x[j^h]·ssin[j]))
//   backward  gx[j] = bf16(bf16(g[j]·cos[j]) + bf16(g[j^h]·ssin[j^h]))
// — the bits of apply_rope's roll, two products and a sum, and of autograd's backward of them
// (each product's gradient rounded, the roll's undone, the two added in bf16). The last part's
// heads (v) are copied through, as the identity rotation would leave them. The forward reads the
// projection and writes the three parts; the backward reads the parts' gradients, in whatever
// layout attention's backward left them, and writes the projection's gradient, so no cat of the
// three gradients is ever made.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

// One of q, k, v as [B, T, heads, D]: unit stride over D, the others in elements, rows of 16
// bytes aligned.
struct RopePart {
  void* data = nullptr;
  int64_t batch_stride = 0, token_stride = 0, head_stride = 0;
  int heads = 0;
};

struct RopeRotateArgs {
  void* combined = nullptr;          // [B, T, Σ heads, D] bf16, contiguous
  RopePart parts[3];                 // q, k (rotated), v (copied)
  const void* cos = nullptr;         // [B, T, D] bf16, contiguous
  const void* signed_sin = nullptr;  // [B, T, D] bf16, contiguous, first half negated
  int64_t batch = 0, seq = 0;
  int head_dim = 0;  // a multiple of 16
  bool backward = false;  // false: combined -> parts; true: parts' gradients -> combined's
};

cudaError_t launch_rope_rotate(const RopeRotateArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
