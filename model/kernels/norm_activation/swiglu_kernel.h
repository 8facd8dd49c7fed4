// SwiGLU on a fused gate_up projection, forward and backward, on CUDA, with a plain-C++
// interface (no LibTorch types) so that nvcc compiles it without the LibTorch headers.
// x is [rows, 2I] row-major, gate in columns [0, I) and up in [I, 2I):
//   forward   out = silu(g) · u                                     [rows, I]
//   backward  dg = dout · u · σ(g)(1 + g(1 − σ(g))),  du = dout · silu(g)   into [rows, 2I]
// Math in float32, one rounding per output. Each thread handles 8 consecutive columns with
// 16-byte loads when I is a multiple of 8 (bf16) or 4 (float32) and the rows are aligned.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

enum class SwigluType { kFloat32, kBFloat16 };

// row_scale: null, or float32 [rows] multiplying each output row (inference: a routing weight).
cudaError_t launch_swiglu_forward(const void* x, void* out, int64_t rows, int64_t inter, SwigluType type,
                                  cudaStream_t stream, const float* row_scale = nullptr);
cudaError_t launch_swiglu_backward(const void* x, const void* grad_out, void* grad_x, int64_t rows, int64_t inter,
                                   SwigluType type, cudaStream_t stream);

}  // namespace grpo::model::kernels
