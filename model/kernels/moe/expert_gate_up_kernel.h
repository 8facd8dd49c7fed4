// The first half of the all-experts MoE decode (moe_decode.h) as one CUDA kernel, with a
// plain-C++ interface (no LibTorch types) so that nvcc compiles it without the LibTorch headers.
// For every token n, routed expert e and intermediate feature i, and for the shared experts:
//   hidden[e][n][i]      = silu(x[n] · gate[e][i]) · (x[n] · up[e][i]) · combine[e][n]
//   shared_hidden[n][j]  = silu(x[n] · shared_gate[j]) · (x[n] · shared_up[j])
// rounded once to bf16, where a batched matmul wrote the [E, N, 2I] projections, a second kernel
// applied SwiGLU and the routing weights, and a GEMM and a third kernel did the shared experts.
// Decode reads every weight once and is bound by that: the weights go from memory straight into
// the tensor cores' operand registers (core/cuda/mma.cuh, mma_chunk32_rows) and the tokens sit
// in shared memory. An expert multiplies only the tokens routed to it, packed into the first
// 8-token column tiles, so the tensor-core work is that of the routed pairs (rounded up to 8 per
// expert), not of every token times every expert; the other tokens' outputs are written as zeros,
// which the down projection reads as such.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct ExpertGateUpArgs {
  const void* x = nullptr;  // [N, H] bf16, rows x_stride elements apart (a multiple of 8), dim stride 1
  int64_t x_stride = 0;
  const void* weight = nullptr;         // [E, 2I, H] bf16, contiguous: each expert's gate rows, then its up rows
  const float* combine = nullptr;       // [E, N] float32, contiguous: routing weights, 0 where not chosen
  const void* shared_weight = nullptr;  // [2Is, H] bf16, contiguous (gate rows, then up rows); null: none
  void* hidden = nullptr;               // [E, N, I] bf16, contiguous (written)
  void* shared_hidden = nullptr;        // [N, Is] bf16, contiguous (written when Is > 0)
  int tokens = 0, features = 0, inter = 0, experts = 0, shared_inter = 0;  // N, H, I, E, Is
};

// H a multiple of 128 and at most 1536 and E small enough that 64 token rows of H and their routing
// weights fit in shared memory; I and Is multiples of 8 (Is may be 0).
bool expert_gate_up_supported(int features, int inter, int experts, int shared_inter);
cudaError_t launch_expert_gate_up(const ExpertGateUpArgs& args, int multiprocessors, cudaStream_t stream);

}  // namespace grpo::model::kernels
