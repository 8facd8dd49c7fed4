// The down projection of the all-experts MoE decode (moe_decode.h) as one split-K GEMM on
// tensor cores, with a plain-C++ interface (no LibTorch types) so that nvcc compiles it without
// the LibTorch headers. It computes, for every token n and output feature h,
//   y[n][h] = Σ_e Σ_i hidden[e][n][i] · weight[e][h][i]  +  Σ_j shared_hidden[n][j] · shared_weight[h][j]
// i.e. every expert's down projection, the sum over experts and the shared experts' down
// projection in one pass over the weights, where batched matmuls wrote [E, N, hidden] outputs,
// summed them in another kernel and added the shared experts' GEMM in a third. The K dimension
// (E·I + Is) is cut into `splits` contiguous ranges, one per block row; each writes its float32
// partial sums, and the consumer adds the splits in order (deterministic: no atomics), which the
// decode step folds into its residual add (model/kernels/norm_activation/fused_add_rms_norm.h). As in the gate/up kernel
// (expert_gate_up_kernel.h), the weights go from memory straight into MMA operand registers.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct ExpertDownArgs {
  const void* hidden = nullptr;         // [E, N, I] bf16, contiguous (routing weights applied)
  const void* weight = nullptr;         // [E, H, I] bf16, contiguous
  const void* shared_hidden = nullptr;  // [N, Is] bf16, rows shared_hidden_stride apart; null: none
  int64_t shared_hidden_stride = 0;
  const void* shared_weight = nullptr;  // [H, Is] bf16, contiguous
  int tokens = 0, features = 0, inter = 0, experts = 0, shared_inter = 0;  // N, H, I, E, Is
  int splits = 1;
  float* partials = nullptr;  // [splits, N, H] float32, contiguous
};

// H a multiple of 256, I and Is multiples of 32 (Is may be 0).
bool expert_down_supported(int features, int inter, int shared_inter);
// A split count that fills the device (one 16-warp block per multiprocessor), at most one split per
// 32-wide K tile.
int expert_down_splits(int tokens, int features, int inter, int experts, int shared_inter, int multiprocessors);
cudaError_t launch_expert_down(const ExpertDownArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
