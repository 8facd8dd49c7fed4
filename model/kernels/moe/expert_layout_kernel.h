// Where each (token, expert) pair of a MoE training step goes in the experts' grouped GEMM input,
// as one CUDA kernel, with a plain-C++ interface (no LibTorch types) so that nvcc compiles it
// without the LibTorch headers. The tensor-op form (moe.cpp) is a sort, a count, two scans and
// three indexed writes: some thirty small kernels a layer, each a host round of dispatch.
//
// Pairs p = token·K + k with expert e_p. Expert e's rows start at padded_start[e], the sum of the
// earlier experts' counts each rounded up to `align`; pair p takes row
//   row_of_pair[p] = padded_start[e_p] + #{q < p : e_q = e_p}
// (the stable sort's order). ends[e] = padded_start[e] + padded count (the last expert's: `rows`),
// token_of_row / pair_of_row map rows back (padding rows: token 0, pair N·K).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

constexpr int kExpertLayoutMaxExperts = 256;

struct ExpertLayoutArgs {
  const int64_t* experts = nullptr;  // [pairs], values in [0, num_experts)
  int64_t pairs = 0, rows = 0;       // rows = pairs + num_experts·(align - 1)
  int num_experts = 0, top_k = 1, align = 1;
  int64_t* row_of_pair = nullptr;   // [pairs]
  int64_t* token_of_row = nullptr;  // [rows]
  int64_t* pair_of_row = nullptr;   // [rows]
  int32_t* ends = nullptr;          // [num_experts]
};

cudaError_t launch_expert_layout(const ExpertLayoutArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
