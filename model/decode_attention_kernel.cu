// Decode attention kernels; see decode_attention_kernel.h.
#include "model/decode_attention_kernel.h"

#include <cmath>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/warp_reduce.cuh"
#include "model/split_merge.cuh"

namespace grpo::model::kernels {
namespace {

using cuda::bf16_to_float;
using cuda::float_to_bf16;
using cuda::high_bf16;
using cuda::low_bf16;
using cuda::warp_max;
using cuda::warp_sum;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxGroups = 8;
constexpr int kMinKeysPerSplit = 64;
constexpr int kMaxSplits = 64;
constexpr float kLog2e = 1.4426950408889634f;

// Block (kv head, row, split). Each warp takes tiles of 32 keys: lane j scores key j against the
// G query heads (reading its 2·D-byte key row), the warp updates its running max and sum per
// head, and then every lane accumulates its D/32 output dims over the tile's values (one
// coalesced row per key). The block's warps are merged at the end.
template <int D, int G>
__global__ void __launch_bounds__(kThreads) decode_attention_partial_kernel(DecodeAttentionArgs a, int chunk) {
  constexpr int kDimsPerLane = D / 32;
  const int kv = blockIdx.x, b = blockIdx.y, split = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t last = a.positions[static_cast<int64_t>(b) * a.positions_stride];
  const int count = static_cast<int>(last < 0 ? 1 : (last >= a.key_len ? a.key_len : last + 1));
  const int begin = split * chunk, end = min(count, begin + chunk);

  __shared__ float q_s[G][D];
  __shared__ float p_s[kWarps][G][32];
  __shared__ float max_s[kWarps][G], sum_s[kWarps][G];
  __shared__ float out_s[kWarps][G][D];

  const auto* q = static_cast<const uint16_t*>(a.q) + b * a.q_batch_stride + static_cast<int64_t>(kv) * G * a.q_head_stride;
  for (int i = threadIdx.x; i < G * D; i += kThreads)
    q_s[i / D][i % D] = bf16_to_float(q[(i / D) * a.q_head_stride + i % D]) * (a.scale * kLog2e);
  __syncthreads();

  const auto* k = static_cast<const uint16_t*>(a.k) + b * a.k_batch_stride + kv * a.k_head_stride;
  const auto* v = static_cast<const uint16_t*>(a.v) + b * a.v_batch_stride + kv * a.v_head_stride;
  float run_max[G], run_sum[G], acc[G][kDimsPerLane];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    run_max[g] = -INFINITY;
    run_sum[g] = 0.f;
#pragma unroll
    for (int e = 0; e < kDimsPerLane; ++e) acc[g][e] = 0.f;
  }

  for (int tile = begin + warp * 32; tile < end; tile += kWarps * 32) {
    const int key = tile + lane;
    const bool valid = key < end;
    float score[G];
#pragma unroll
    for (int g = 0; g < G; ++g) score[g] = 0.f;
    if (valid) {
      const auto* row = reinterpret_cast<const uint4*>(k + key * a.k_pos_stride);
#pragma unroll
      for (int c = 0; c < D / 8; ++c) {
        const uint4 w = row[c];
        const float kf[8] = {low_bf16(w.x), high_bf16(w.x), low_bf16(w.y), high_bf16(w.y),
                             low_bf16(w.z), high_bf16(w.z), low_bf16(w.w), high_bf16(w.w)};
#pragma unroll
        for (int g = 0; g < G; ++g)
#pragma unroll
          for (int e = 0; e < 8; ++e) score[g] = fmaf(q_s[g][c * 8 + e], kf[e], score[g]);
      }
    }
#pragma unroll
    for (int g = 0; g < G; ++g) {
      // Lane 0's key is always valid, so the tile maximum is finite.
      const float new_max = fmaxf(run_max[g], warp_max(valid ? score[g] : -INFINITY));
      const float rescale = exp2f(run_max[g] - new_max);  // 0 while run_max is -inf
      const float p = valid ? exp2f(score[g] - new_max) : 0.f;
      run_sum[g] = run_sum[g] * rescale + warp_sum(p);
      run_max[g] = new_max;
#pragma unroll
      for (int e = 0; e < kDimsPerLane; ++e) acc[g][e] *= rescale;
      p_s[warp][g][lane] = p;
    }
    __syncwarp();
    const int keys = min(32, end - tile);
    for (int j = 0; j < keys; ++j) {
      const uint16_t* row = v + (tile + j) * a.v_pos_stride + lane * kDimsPerLane;
      float vf[kDimsPerLane];
      if constexpr (kDimsPerLane == 2) {
        const uint32_t w = *reinterpret_cast<const uint32_t*>(row);
        vf[0] = low_bf16(w), vf[1] = high_bf16(w);
      } else {
        const uint2 w = *reinterpret_cast<const uint2*>(row);
        vf[0] = low_bf16(w.x), vf[1] = high_bf16(w.x), vf[2] = low_bf16(w.y), vf[3] = high_bf16(w.y);
      }
#pragma unroll
      for (int g = 0; g < G; ++g) {
        const float p = p_s[warp][g][j];
#pragma unroll
        for (int e = 0; e < kDimsPerLane; ++e) acc[g][e] = fmaf(p, vf[e], acc[g][e]);
      }
    }
    __syncwarp();
  }

#pragma unroll
  for (int g = 0; g < G; ++g) {
    if (lane == 0) max_s[warp][g] = run_max[g], sum_s[warp][g] = run_sum[g];
#pragma unroll
    for (int e = 0; e < kDimsPerLane; ++e) out_s[warp][g][lane * kDimsPerLane + e] = acc[g][e];
  }
  __syncthreads();
  const SplitWorkspace ws = split_workspace(a.workspace, a.batch, a.heads, D, a.splits);
  for (int i = threadIdx.x; i < G * D; i += kThreads) {
    const int g = i / D, d = i % D;
    float m = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) m = fmaxf(m, max_s[w][g]);
    float sum = 0.f, out = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float f = max_s[w][g] == -INFINITY ? 0.f : exp2f(max_s[w][g] - m);
      sum = fmaf(sum_s[w][g], f, sum);
      out = fmaf(out_s[w][g][d], f, out);
    }
    const int64_t head = static_cast<int64_t>(b) * a.heads + kv * G + g;
    if (a.splits == 1) {  // the whole row: normalize and write the output, no merge kernel
      static_cast<uint16_t*>(a.out)[head * D + d] = float_to_bf16(sum > 0.f ? out / sum : 0.f);
      continue;
    }
    const int64_t slot = head * a.splits + split;
    ws.out[slot * D + d] = out;
    if (d == 0) ws.max_sum[2 * slot] = m, ws.max_sum[2 * slot + 1] = sum;
  }
}

// Block (head, row), one thread per output dim: merges the splits and writes bf16 (only when
// there are several; a single split writes its output itself).
__global__ void decode_attention_merge_kernel(DecodeAttentionArgs a) {
  const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x, D = a.head_dim;
  const SplitWorkspace ws = split_workspace(a.workspace, a.batch, a.heads, D, a.splits);
  const int64_t first = (static_cast<int64_t>(b) * a.heads + h) * a.splits;
  static_cast<uint16_t*>(a.out)[(static_cast<int64_t>(b) * a.heads + h) * D + d] =
      float_to_bf16(merge_splits(ws.out + first * D, ws.max_sum + 2 * first, a.splits, D, d));
}

template <int D, int G>
void launch_partial(const DecodeAttentionArgs& a, int chunk, cudaStream_t stream) {
  decode_attention_partial_kernel<D, G><<<dim3(a.kv_heads, a.batch, a.splits), kThreads, 0, stream>>>(a, chunk);
}

template <int D>
void launch_partial_for_groups(const DecodeAttentionArgs& a, int groups, int chunk, cudaStream_t stream) {
  switch (groups) {
    case 1: return launch_partial<D, 1>(a, chunk, stream);
    case 2: return launch_partial<D, 2>(a, chunk, stream);
    case 3: return launch_partial<D, 3>(a, chunk, stream);
    case 4: return launch_partial<D, 4>(a, chunk, stream);
    case 5: return launch_partial<D, 5>(a, chunk, stream);
    case 6: return launch_partial<D, 6>(a, chunk, stream);
    case 7: return launch_partial<D, 7>(a, chunk, stream);
    default: return launch_partial<D, 8>(a, chunk, stream);
  }
}

}  // namespace

bool decode_attention_supported(int head_dim, int groups) {
  return (head_dim == 64 || head_dim == 128) && groups >= 1 && groups <= kMaxGroups;
}

int decode_attention_splits(int batch, int kv_heads, int key_len, int multiprocessors) {
  const int blocks = batch * kv_heads;
  const int want = (2 * multiprocessors + blocks - 1) / blocks;
  const int most = (key_len + kMinKeysPerSplit - 1) / kMinKeysPerSplit;
  int splits = want < most ? want : most;
  return splits < 1 ? 1 : (splits > kMaxSplits ? kMaxSplits : splits);
}

size_t decode_attention_workspace_bytes(int batch, int heads, int head_dim, int splits) {
  return split_workspace_bytes(batch, heads, head_dim, splits);
}

cudaError_t launch_decode_attention(const DecodeAttentionArgs& a, cudaStream_t stream) {
  if (a.batch == 0) return cudaSuccess;
  const int groups = a.heads / a.kv_heads;
  if (!decode_attention_supported(a.head_dim, groups) || groups * a.kv_heads != a.heads || a.key_len < 1)
    return cudaErrorInvalidValue;
  // Whole 32-key tiles per split.
  const int chunk = ((a.key_len + a.splits - 1) / a.splits + 31) / 32 * 32;
  if (a.head_dim == 64)
    launch_partial_for_groups<64>(a, groups, chunk, stream);
  else
    launch_partial_for_groups<128>(a, groups, chunk, stream);
  if (a.splits > 1) decode_attention_merge_kernel<<<dim3(a.heads, a.batch), a.head_dim, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace grpo::model::kernels
