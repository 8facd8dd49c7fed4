// A decoder layer's residual add and the RMSNorm that follows it, in one CUDA kernel for the
// decode step (inference only): per row, residual += delta in place, rounded to bf16 as a bf16
// tensor add rounds (delta: bf16 rows, or float32 split-K partial sums added first), then out = residual · rstd · weight with rstd = rsqrt(mean(residual²) + eps)
// over the rounded residual, in float32 with one rounding per output as PyTorch's CUDA
// at::rms_norm does for bf16. The unfused pair is two kernels, the norm reading back the residual
// the add just wrote. Plain-C++ interface (no LibTorch types) so that nvcc compiles it without the
// LibTorch headers.
// Not here: autograd, dtypes other than bf16, hidden sizes that are not a multiple of 8 or above
// 16384 (add_rms_norm_supported).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

// Pointers 16-byte aligned and row strides (in elements) multiples of 8: rows are read and
// written with 16-byte accesses. delta must not overlap residual.
struct AddRmsNormArgs {
  void* residual = nullptr;  // [rows, hidden] bf16, dim stride 1, updated in place
  int64_t residual_stride = 0;
  const void* delta = nullptr;  // [rows, hidden] bf16, dim stride 1
  int64_t delta_stride = 0;
  // Or, where partials is set (delta is then not read), delta = Σ_s partials[s] rounded to bf16,
  // summed in s order: split-K partial sums (expert_down_kernel.h), each [rows, hidden]
  // float32 contiguous, partial_stride elements apart.
  const float* partials = nullptr;
  int64_t partial_stride = 0;
  int partial_count = 0;
  const void* weight = nullptr;  // [hidden] bf16, contiguous
  void* out = nullptr;           // [rows, hidden] bf16, dim stride 1: the normalized residual
  int64_t out_stride = 0;
  float eps = 1e-6f;
  int64_t rows = 0;
  int hidden = 0;
};

bool add_rms_norm_supported(int hidden);

// cudaErrorInvalidValue, launching nothing, for an unsupported hidden size or misaligned rows.
cudaError_t launch_add_rms_norm(const AddRmsNormArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
