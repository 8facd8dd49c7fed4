// The MoE router of a decode step as one CUDA kernel, with a plain-C++ interface (no LibTorch
// types) so that nvcc compiles it without the LibTorch headers. Per token: float32 logits
// x · W_eᵀ for every expert, sigmoid or softmax scores, selection = scores + bias, the top k by
// selection (ties to the lower expert), weights = their scores, optionally normalized, times the
// scaling factor; written as the dense [E, N] routing matrix that the all-experts decode path
// multiplies by (zero for experts not chosen). It replaces the module's ten-odd small kernels
// (casts, a float32 GEMM, sigmoid, add, top-k, gather, scale, zeros and scatter) per layer.
// Group-limited routing is not supported (the caller falls back to the module).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct RouterArgs {
  const void* x = nullptr;  // [N, hidden] bf16, rows x_row_stride apart, dim stride 1, 16-byte aligned rows
  int64_t x_row_stride = 0;
  const void* weight = nullptr;  // [E, hidden] bf16, contiguous
  const float* bias = nullptr;   // [E] or null: added to the scores for selection only
  int tokens = 0, hidden = 0, experts = 0, top_k = 0;
  bool sigmoid = true, normalize = false;
  float scaling = 1.f;
  float* combine = nullptr;  // [E, N] float32, contiguous
};

// experts <= 256, 1 <= top_k <= min(16, experts), hidden a multiple of 8 and at most 16384.
bool router_supported(int hidden, int experts, int top_k);
cudaError_t launch_router(const RouterArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
