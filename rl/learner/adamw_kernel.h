// The optimizer step of GPU training as two passes over flat buffers, with a plain-C++ interface
// (no LibTorch types) so that nvcc compiles it without the LibTorch headers.
//
// Sum of squares: the gradient norm's one read of the gradients, bf16 or float32, in float32.
// Each block writes one partial sum; the caller adds the partials in a fixed order, so the norm
// does not depend on scheduling (no atomics).
//
// AdamW: one read-modify-write of the float32 parameter and both moments per element, reading
// the gradient as stored (a bf16 model's gradient buffer needs no float32 copy), scaling it by the
// clip factor on the fly, and writing the updated parameter rounded to bf16 into the model's
// compute weights when asked. Per element, with g = grad·scale, in float32:
//   p ← p·(1 - lr·wd);  m ← β1·m + (1-β1)·g;  v ← β2·v + (1-β2)·g²
//   p ← p - (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps)
// (PyTorch's fused AdamW order of operations). Separate kernels for the clip multiply, the
// bf16 -> float32 gradient copy and the rounding copy would move 2.3x the bytes.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::rl::kernels {

struct AdamWStepArgs {
  float* param = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  const void* grad = nullptr;  // bf16 or float32, as grad_bf16 says
  bool grad_bf16 = false;
  uint16_t* rounded = nullptr;  // optional: receives the updated parameter as bf16
  int64_t n = 0;
  float grad_scale = 1.f, lr = 0.f, beta1 = 0.9f, beta2 = 0.999f, weight_decay = 0.f, eps = 1e-8f;
  float bias_correction1 = 1.f, bias_correction2_sqrt = 1.f;
};

cudaError_t launch_adamw_step(const AdamWStepArgs& args, cudaStream_t stream);

// Blocks (= partial sums) launch_sum_of_squares uses for n values; at least 1.
int sum_of_squares_blocks(int64_t n);
// partials[b] = Σ x² over block b's share of x[0, n); x is bf16 or float32.
cudaError_t launch_sum_of_squares(const void* x, bool bf16, int64_t n, float* partials, cudaStream_t stream);

}  // namespace grpo::rl::kernels
