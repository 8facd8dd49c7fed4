// Fused MoE router kernel; see router_kernel.h.
#include "model/kernels/moe/router_kernel.h"

#include <climits>
#include <cmath>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::model::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxExperts = 256;
constexpr int kPerLane = kMaxExperts / 32;
constexpr int kMaxTopK = 16;

// Experts each warp scores at once, and 16-byte weight vectors per lane and expert in flight at
// once: a lane holds kExpertsAtOnce x kVectorsAtOnce loads (128 registers), so a hidden size of
// up to 32 x 8 x kVectorsAtOnce = 1024 takes one round trip to memory for all its router weights.
// The logits are latency-bound reads of the router weight (evicted from L2 by the expert weights
// streamed since the last step), not arithmetic.
constexpr int kExpertsAtOnce = 8;
constexpr int kVectorsAtOnce = 4;

// Block per token. Warp w scores experts [8w, 8w + 8), [8w + 64, ...): lanes split the hidden
// dim in 8-value vectors, each lane summing its vectors in order, then a warp sum. The first
// group's weights are requested before the token's row is staged in shared memory, so both
// reads are in flight together; the weights' even while the kernel before this one finishes
// (dependent_launch.cuh). Then warp 0 scores, selects and writes the token's column.
__global__ void __launch_bounds__(kThreads) router_kernel(RouterArgs a) {
  extern __shared__ uint4 x_row[];  // hidden / 8 vectors
  __shared__ float logits[kMaxExperts];
  cuda::allow_dependent_grids();
  const int n = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int vectors = a.hidden / 8;
  const auto* weight = static_cast<const uint4*>(a.weight);  // row e: vectors [e * vectors, (e + 1) * vectors)
  uint4 w[kExpertsAtOnce][kVectorsAtOnce];
  auto load_group = [&](int first, int c0) {
#pragma unroll
    for (int j = 0; j < kExpertsAtOnce; ++j) {
      const int e = min(first + j, a.experts - 1);  // past the last expert: a duplicate, never stored
#pragma unroll
      for (int v = 0; v < kVectorsAtOnce; ++v) {
        const int c = c0 + lane + 32 * v;
        w[j][v] = c < vectors ? __ldg(weight + static_cast<int64_t>(e) * vectors + c) : make_uint4(0, 0, 0, 0);
      }
    }
  };
  const int own_first = warp * kExpertsAtOnce;
  if (own_first < a.experts) load_group(own_first, 0);
  cuda::wait_for_prerequisite_grids();  // the token's row is the previous kernel's output
  const auto* x = reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(a.x) + n * a.x_row_stride);
  for (int c = threadIdx.x; c < vectors; c += kThreads) x_row[c] = x[c];
  __syncthreads();
  for (int first = own_first; first < a.experts; first += kWarps * kExpertsAtOnce) {
    float acc[kExpertsAtOnce] = {};
    for (int c0 = 0; c0 < vectors; c0 += 32 * kVectorsAtOnce) {
      if (c0 > 0 || first != own_first) load_group(first, c0);
#pragma unroll
      for (int v = 0; v < kVectorsAtOnce; ++v) {
        const int c = c0 + lane + 32 * v;
        if (c >= vectors) break;
        const uint4 xv = x_row[c];
        const uint32_t xs[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
        for (int j = 0; j < kExpertsAtOnce; ++j) {
          const uint32_t ws[4] = {w[j][v].x, w[j][v].y, w[j][v].z, w[j][v].w};
#pragma unroll
          for (int i = 0; i < 4; ++i) {
            acc[j] = fmaf(cuda::low_bf16(xs[i]), cuda::low_bf16(ws[i]), acc[j]);
            acc[j] = fmaf(cuda::high_bf16(xs[i]), cuda::high_bf16(ws[i]), acc[j]);
          }
        }
      }
    }
#pragma unroll
    for (int j = 0; j < kExpertsAtOnce; ++j) {
      const float logit = cuda::warp_sum(acc[j]);
      if (lane == 0 && first + j < a.experts) logits[first + j] = logit;
    }
  }
  __syncthreads();
  if (warp != 0) return;

  float score[kPerLane], selection[kPerLane];
  float row_max = -INFINITY;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int e = lane + 32 * i;
    score[i] = e < a.experts ? logits[e] : -INFINITY;
    row_max = fmaxf(row_max, score[i]);
  }
  if (a.sigmoid) {
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + 32 * i;
      score[i] = e < a.experts ? 1.f / (1.f + expf(-score[i])) : 0.f;
      selection[i] = e < a.experts ? score[i] + (a.bias ? a.bias[e] : 0.f) : -INFINITY;
    }
  } else {
    row_max = cuda::warp_max(row_max);
    float sum = 0.f;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      score[i] = lane + 32 * i < a.experts ? expf(score[i] - row_max) : 0.f;
      sum += score[i];
    }
    sum = cuda::warp_sum(sum);
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      score[i] /= sum;
      selection[i] = lane + 32 * i < a.experts ? score[i] : -INFINITY;
    }
  }

  // Top k: each round the warp's best (selection, then lower expert) is taken and removed.
  float chosen_weight[kMaxTopK];
  int chosen[kMaxTopK];
  float total = 0.f;
  for (int k = 0; k < a.top_k; ++k) {
    float best = -INFINITY, best_score = 0.f;
    int best_e = INT_MAX;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int e = lane + 32 * i;
      if (selection[i] > best || (selection[i] == best && e < best_e && selection[i] != -INFINITY))
        best = selection[i], best_e = e, best_score = score[i];
    }
#pragma unroll
    for (int m = 16; m > 0; m /= 2) {
      const float other = __shfl_xor_sync(0xffffffffu, best, m);
      const int other_e = __shfl_xor_sync(0xffffffffu, best_e, m);
      const float other_score = __shfl_xor_sync(0xffffffffu, best_score, m);
      if (other > best || (other == best && other_e < best_e)) best = other, best_e = other_e, best_score = other_score;
    }
    chosen[k] = best_e;
    chosen_weight[k] = best_score;
    total += best_score;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i)
      if (lane + 32 * i == best_e) selection[i] = -INFINITY;
  }
  for (int e = lane; e < a.experts; e += 32) {
    float w = 0.f;
    for (int k = 0; k < a.top_k; ++k)
      if (chosen[k] == e) w = (a.normalize ? chosen_weight[k] / (total + 1e-20f) : chosen_weight[k]) * a.scaling;
    a.combine[static_cast<int64_t>(e) * a.tokens + n] = w;
  }
}

}  // namespace

bool router_supported(int hidden, int experts, int top_k) {
  // The token's row lives in shared memory (hidden <= 16384: 32 KiB, under the 48 KiB default).
  return hidden > 0 && hidden % 8 == 0 && hidden <= 16384 && experts > 0 && experts <= kMaxExperts && top_k >= 1 &&
         top_k <= kMaxTopK && top_k <= experts;
}

cudaError_t launch_router(const RouterArgs& a, cudaStream_t stream) {
  if (a.tokens == 0) return cudaSuccess;
  if (!router_supported(a.hidden, a.experts, a.top_k)) return cudaErrorInvalidValue;
  return cuda::launch_dependent(router_kernel, dim3(a.tokens), dim3(kThreads), a.hidden / 8 * sizeof(uint4), stream, a);
}

}  // namespace grpo::model::kernels
