// RMSNorm of training as one CUDA kernel forward and one backward over bf16 rows, with a
// plain-C++ interface (no LibTorch types) so that nvcc compiles it without the LibTorch headers.
//
// Per row, in float32, with r = rsqrt(mean(x²) + eps) and x̂ = x·r:
//   forward   y = bf16(x̂·w)   (one rounding, as at::rms_norm's CUDA kernel), r kept per row
//   backward  dx = r·(w·g - x̂·mean(x̂·w·g)),   dw = Σ_rows g·x̂
// The backward reads x and g once: each block takes a run of rows, writes their dx, and leaves
// one float32 partial dw per block and column, which the caller sums in block order (no atomics).
// PyTorch's backward runs the input and weight gradients as separate kernels, the weight's at a
// fraction of the memory bandwidth.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct RmsNormArgs {
  const uint16_t* x = nullptr;       // [rows, hidden] bf16, contiguous
  const uint16_t* weight = nullptr;  // [hidden] bf16
  int64_t rows = 0;
  int hidden = 0;  // a multiple of 8, at most kRmsNormMaxHidden
  float eps = 1e-6f;
  uint16_t* out = nullptr;   // forward: [rows, hidden] bf16
  float* rstd = nullptr;     // forward writes, backward reads: [rows]
  const uint16_t* grad_out = nullptr;  // backward: [rows, hidden] bf16
  uint16_t* grad_x = nullptr;          // backward: [rows, hidden] bf16
  float* weight_partials = nullptr;    // backward: [rms_norm_backward_blocks(rows), hidden]
};

constexpr int kRmsNormMaxHidden = 8192;

int rms_norm_backward_blocks(int64_t rows);
cudaError_t launch_rms_norm_forward(const RmsNormArgs& args, cudaStream_t stream);
cudaError_t launch_rms_norm_backward(const RmsNormArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
