// The MoE combine of training as two CUDA kernels over bf16 rows, with a plain-C++ interface (no
// LibTorch types) so that nvcc compiles it without the LibTorch headers.
//
// The routed experts leave their outputs in expert order, one row per (token, expert) pair plus
// padding rows (moe.cpp lays each expert's rows out from an aligned start). Forward, per token t
// with pairs p = t·K + k:
//   out[t] = Σ_k w[p] · rows[row_of_pair[p]]   (float32, k in order, rounded once to bf16)
// Backward, per row r with pair p = pair_of_row[r] (padding rows: gradient zero):
//   grad_rows[r] = w[p] · grad_out[t],   grad_w[p] = grad_out[t] · rows[r]
// Each output is written by exactly one block (no atomics), and the gather, the weighting and
// the sum happen in one read of the rows instead of a float32 [N, K, H] product and its sum.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct MoeCombineArgs {
  const uint16_t* rows = nullptr;         // [row_count, hidden] bf16, the experts' outputs
  const float* weights = nullptr;         // [tokens · k] routing weights
  const int64_t* row_of_pair = nullptr;   // [tokens · k]
  const int64_t* pair_of_row = nullptr;   // [row_count]; tokens · k marks a padding row
  int64_t tokens = 0, row_count = 0;
  int k = 0, hidden = 0;                  // hidden: a multiple of 8
  uint16_t* out = nullptr;                // forward: [tokens, hidden] bf16
  const uint16_t* grad_out = nullptr;     // backward: [tokens, hidden] bf16
  uint16_t* grad_rows = nullptr;          // backward: [row_count, hidden] bf16
  float* grad_weights = nullptr;          // backward: [tokens · k]
};

cudaError_t launch_moe_combine_forward(const MoeCombineArgs& args, cudaStream_t stream);
cudaError_t launch_moe_combine_backward(const MoeCombineArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
