// Flash-decoding's second pass, shared by the decode attention kernels: a row's keys were split
// into ranges, each range wrote its unnormalized output with its running (max, sum) of base-2
// scores, and one output element is the sum of the ranges rescaled to the common maximum over
// the common sum. A range with no keys has max -inf and contributes nothing.
#pragma once

#include <cmath>
#include <cstddef>

namespace grpo::model::kernels {

// The partials of a launch: unnormalized outputs [B, H, splits, dim], then (max, sum)
// [B, H, splits, 2], all float32 in one buffer of split_workspace_bytes.
struct SplitWorkspace {
  float* out;
  float* max_sum;
};

__host__ __device__ inline SplitWorkspace split_workspace(void* base, int batch, int heads, int dim, int splits) {
  float* out = static_cast<float*>(base);
  return {out, out + static_cast<size_t>(batch) * heads * splits * dim};
}

inline size_t split_workspace_bytes(int batch, int heads, int dim, int splits) {
  return static_cast<size_t>(batch) * heads * splits * (dim + 2) * sizeof(float);
}

// out: the ranges' partial outputs, range s at out[s * dim]; max_sum: (max, sum) of range s at
// max_sum[2 s]. Returns element d of the normalized output (0 when no range has a key).
__device__ __forceinline__ float merge_splits(const float* out, const float* max_sum, int splits, int dim, int d) {
  float m = -INFINITY;
  for (int s = 0; s < splits; ++s) m = fmaxf(m, max_sum[2 * s]);
  float sum = 0.f, acc = 0.f;
  for (int s = 0; s < splits; ++s) {
    const float ms = max_sum[2 * s];
    if (ms == -INFINITY) continue;  // a range past the row's keys
    const float f = exp2f(ms - m);
    sum = fmaf(max_sum[2 * s + 1], f, sum);
    acc = fmaf(out[static_cast<int64_t>(s) * dim + d], f, acc);
  }
  return sum > 0.f ? acc / sum : 0.f;
}

}  // namespace grpo::model::kernels
