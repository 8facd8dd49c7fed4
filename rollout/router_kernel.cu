// Fused MoE router kernel; see router_kernel.h.
#include "rollout/router_kernel.h"

#include <climits>
#include <cmath>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::rollout::kernels {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxExperts = 256;
constexpr int kPerLane = kMaxExperts / 32;
constexpr int kMaxTopK = 16;

// Experts each warp's lanes score at once: their weight loads are independent, so a lane has
// kExpertsAtOnce x (hidden / 256) 16-byte loads in flight instead of one expert's at a time (the
// logits are latency-bound reads of the router weight from L2, not arithmetic).
constexpr int kExpertsAtOnce = 8;

// Block per token. The token's row goes to shared memory once; warp w scores experts
// [8w, 8w + 8), [8w + 64, ...) (lanes split the hidden dim in 8-value vectors, each lane summing
// its vectors in order, then a warp sum), then warp 0 scores, selects and writes the token's column.
__global__ void __launch_bounds__(kThreads) router_kernel(RouterArgs a) {
  extern __shared__ uint4 x_row[];  // hidden / 8 vectors
  __shared__ float logits[kMaxExperts];
  const int n = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const auto* x = reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(a.x) + n * a.x_row_stride);
  const int vectors = a.hidden / 8;
  for (int c = threadIdx.x; c < vectors; c += kThreads) x_row[c] = x[c];
  __syncthreads();
  const auto* weight = static_cast<const uint16_t*>(a.weight);
  for (int first = warp * kExpertsAtOnce; first < a.experts; first += kWarps * kExpertsAtOnce) {
    const uint4* w[kExpertsAtOnce];
    float acc[kExpertsAtOnce];
#pragma unroll
    for (int j = 0; j < kExpertsAtOnce; ++j) {
      const int e = min(first + j, a.experts - 1);  // past the last expert: a duplicate, never stored
      w[j] = reinterpret_cast<const uint4*>(weight + static_cast<int64_t>(e) * a.hidden);
      acc[j] = 0.f;
    }
#pragma unroll 2
    for (int c = lane; c < vectors; c += 32) {
      const uint4 xv = x_row[c];
      const uint32_t xs[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
      for (int j = 0; j < kExpertsAtOnce; ++j) {
        const uint4 wv = w[j][c];
        const uint32_t ws[4] = {wv.x, wv.y, wv.z, wv.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          acc[j] = fmaf(cuda::low_bf16(xs[i]), cuda::low_bf16(ws[i]), acc[j]);
          acc[j] = fmaf(cuda::high_bf16(xs[i]), cuda::high_bf16(ws[i]), acc[j]);
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
  router_kernel<<<a.tokens, kThreads, a.hidden / 8 * sizeof(uint4), stream>>>(a);
  return cudaGetLastError();
}

}  // namespace grpo::rollout::kernels
