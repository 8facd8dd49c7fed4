// Decode attention kernels; see decode_attention_kernel.h.
#include "model/kernels/attention/decode_attention_kernel.h"

#include <cmath>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "core/cuda/mma.cuh"
#include "core/cuda/warp_reduce.cuh"
#include "model/kernels/attention/online_softmax.cuh"
#include "model/kernels/attention/split_merge.cuh"

namespace grpo::model::kernels {
namespace {

using cuda::bf16_to_float;
using cuda::float_to_bf16;
using cuda::load_a;
using cuda::load_b_rows;
using cuda::mma_16816;
using cuda::pack;
using cuda::pair;
using cuda::warp_max;
using cuda::warp_sum;

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRows = 16;  // the MMA's M: query heads per kv head, at most
constexpr int kTile = 32;  // keys staged per step: 8 per warp for the scores
constexpr int kMinKeysPerSplit = 64;
constexpr int kMaxSplits = 64;
constexpr float kLog2e = 1.4426950408889634f;

// Shared memory of one block. Rows are padded by 8 bf16 so that the 8 rows a fragment load
// touches fall in different banks.
template <int D>
struct Smem {
  static constexpr int kPitch = D + 8;
  static constexpr int kProbPitch = kTile + 8;
  uint16_t q[kRows][kPitch];  // the G query heads of the kv head; rows >= G are zeros
  uint16_t keys[kTile][kPitch];
  uint16_t values[kTile][kPitch];
  uint16_t probs[kRows][kProbPitch];  // bf16 probabilities of the tile (the P·V operand)
  float scores[kRows][kTile];
  float row_max[kRows], row_sum[kRows], rescale[kRows];
};

// Block (kv head, row, split), on tensor cores: the kv head's G <= 16 query heads are the rows of
// an m16n8k16 MMA (rows past G are zero). For each 32-key tile of the split's range: stage the
// keys and values, score them (warp w: keys 8w..8w+7), update the running softmax per head
// (warp w: rows 4w..4w+3) and accumulate P·V (warp w: output dims [w·D/4, (w+1)·D/4)), with the
// next tile's loads in flight.
template <int D>
__global__ void __launch_bounds__(kThreads) decode_attention_partial_kernel(DecodeAttentionArgs a, int chunk) {
  using S = Smem<D>;
  constexpr int kDimTiles = D / 8 / kWarps;  // 8-dim output tiles per warp
  constexpr int kRowVectors = D / 8;
  __shared__ __align__(16) S sm;
  cuda::start_after_prerequisite_grids();

  const int kv = blockIdx.x, b = blockIdx.y, split = blockIdx.z, groups = a.heads / a.kv_heads;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int64_t last = a.positions[static_cast<int64_t>(b) * a.positions_stride];
  const int count = static_cast<int>(last < 0 ? 1 : (last >= a.key_len ? a.key_len : last + 1));
  const int begin = split * chunk, end = min(count, begin + chunk);

  const auto* q =
      static_cast<const uint16_t*>(a.q) + b * a.q_batch_stride + static_cast<int64_t>(kv) * groups * a.q_head_stride;
  {
    constexpr int kVectors = kRows * kRowVectors, kPerThread = (kVectors + kThreads - 1) / kThreads;
    uint4 staged[kPerThread];
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int i = threadIdx.x + k * kThreads, r = i / kRowVectors, c = i % kRowVectors;
      staged[k] = i < kVectors && r < groups ? *reinterpret_cast<const uint4*>(q + r * a.q_head_stride + c * 8)
                                             : make_uint4(0u, 0u, 0u, 0u);
    }
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int i = threadIdx.x + k * kThreads, r = i / kRowVectors, c = i % kRowVectors;
      if (i < kVectors) *reinterpret_cast<uint4*>(&sm.q[r][c * 8]) = staged[k];
    }
  }
  if (threadIdx.x < kRows) sm.row_max[threadIdx.x] = -INFINITY, sm.row_sum[threadIdx.x] = 0.f;

  float acc[kDimTiles][4];  // output rows g and g + 8, dims (warp·kDimTiles + j)·8 + 2t + {0, 1}
#pragma unroll
  for (int j = 0; j < kDimTiles; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
  const auto* k_base = static_cast<const uint16_t*>(a.k) + b * a.k_batch_stride + kv * a.k_head_stride;
  const auto* v_base = static_cast<const uint16_t*>(a.v) + b * a.v_batch_stride + kv * a.v_head_stride;
  const float score_scale = a.scale * kLog2e;

  // Tile loads run one tile ahead: the next tile's keys and values are in flight while this one
  // is computed. Keys and values past `end` are zeros: probability 0, and no NaN from whatever
  // the cache holds there.
  constexpr int kTileVectors = kTile * kRowVectors, kPerThread = kTileVectors / kThreads;
  static_assert(kTileVectors % kThreads == 0, "whole vectors per thread");
  uint4 k_next[kPerThread], v_next[kPerThread];
  auto load_tile = [&](int tile) {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int i = threadIdx.x + k * kThreads, r = i / kRowVectors, c = i % kRowVectors;
      const bool valid = tile + r < end;
      const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
      k_next[k] = valid ? reinterpret_cast<const uint4*>(k_base + (tile + r) * a.k_pos_stride)[c] : zero;
      v_next[k] = valid ? reinterpret_cast<const uint4*>(v_base + (tile + r) * a.v_pos_stride)[c] : zero;
    }
  };
  if (begin < end) load_tile(begin);

  for (int tile = begin; tile < end; tile += kTile) {
    __syncthreads();  // the previous tile's readers are done (and q is stored)
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int i = threadIdx.x + k * kThreads, r = i / kRowVectors, c = i % kRowVectors;
      *reinterpret_cast<uint4*>(&sm.keys[r][c * 8]) = k_next[k];
      *reinterpret_cast<uint4*>(&sm.values[r][c * 8]) = v_next[k];
    }
    __syncthreads();
    if (tile + kTile < end) load_tile(tile + kTile);

    score_tile<D, D / 16>(sm.q, sm.keys, sm.scores, warp, g, t);  // C[row][key] = Q[row] · keys[key]
    __syncthreads();

    // Online softmax in base 2 (online_softmax.cuh); lane = key of the tile.
    online_softmax_tile<kRows / kWarps>(sm, warp * (kRows / kWarps), end - tile, score_scale, lane);
    __syncthreads();

    // O = O · rescale + P · V.
    const float r_low = sm.rescale[g], r_high = sm.rescale[g + 8];
#pragma unroll
    for (int j = 0; j < kDimTiles; ++j)
      acc[j][0] *= r_low, acc[j][1] *= r_low, acc[j][2] *= r_high, acc[j][3] *= r_high;
#pragma unroll
    for (int k0 = 0; k0 < kTile; k0 += 16) {
      uint32_t p_frag[4];
      load_a<S::kProbPitch>(p_frag, sm.probs, g, t, k0);
#pragma unroll
      for (int j = 0; j < kDimTiles; ++j) {
        uint32_t b0, b1;
        load_b_rows<S::kPitch>(b0, b1, sm.values, g, t, k0, (warp * kDimTiles + j) * 8);
        mma_16816(acc[j], p_frag, b0, b1);
      }
    }
  }
  __syncthreads();  // the row statistics are final

  // Rows g and g + 8 are query heads kv·G + row, where row < G.
  const SplitWorkspace ws = split_workspace(a.workspace, a.batch, a.heads, D, a.splits);
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int r = g + 8 * half;
    if (r >= groups) continue;
    const int64_t head = static_cast<int64_t>(b) * a.heads + kv * groups + r;
    const float sum = sm.row_sum[r], inv = sum > 0.f ? 1.f / sum : 0.f;
#pragma unroll
    for (int j = 0; j < kDimTiles; ++j) {
      const int dim = (warp * kDimTiles + j) * 8 + 2 * t;
      const float x0 = acc[j][2 * half], x1 = acc[j][2 * half + 1];
      if (a.splits == 1) {  // the whole row: normalize and write the output, no merge kernel
        *reinterpret_cast<uint32_t*>(static_cast<uint16_t*>(a.out) + head * D + dim) =
            pack(float_to_bf16(x0 * inv), float_to_bf16(x1 * inv));
      } else {
        *reinterpret_cast<float2*>(ws.out + (head * a.splits + split) * D + dim) = make_float2(x0, x1);
      }
    }
    if (a.splits > 1 && warp == 0 && t == 0) {
      const int64_t slot = head * a.splits + split;
      ws.max_sum[2 * slot] = sm.row_max[r], ws.max_sum[2 * slot + 1] = sum;
    }
  }
}

// Block (head, row), one thread per output dim: merges the splits and writes bf16 (only when
// there are several; a single split writes its output itself).
__global__ void decode_attention_merge_kernel(DecodeAttentionArgs a) {
  cuda::start_after_prerequisite_grids();
  const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x, D = a.head_dim;
  const SplitWorkspace ws = split_workspace(a.workspace, a.batch, a.heads, D, a.splits);
  const int64_t first = (static_cast<int64_t>(b) * a.heads + h) * a.splits;
  static_cast<uint16_t*>(a.out)[(static_cast<int64_t>(b) * a.heads + h) * D + d] =
      float_to_bf16(merge_splits(ws.out + first * D, ws.max_sum + 2 * first, a.splits, D, d));
}

template <int D>
cudaError_t launch_partial(const DecodeAttentionArgs& a, int chunk, cudaStream_t stream) {
  return cuda::launch_dependent(decode_attention_partial_kernel<D>, dim3(a.kv_heads, a.batch, a.splits), dim3(kThreads), 0,
                                stream, a, chunk);
}

}  // namespace

bool decode_attention_supported(int head_dim, int groups) {
  return (head_dim == 64 || head_dim == 128) && groups >= 1 && groups <= kRows;
}

// Enough blocks for four per multiprocessor: a block walks its tiles one after another, so
// short ranges in many blocks hide the memory latency better than long ones in few.
int decode_attention_splits(int batch, int kv_heads, int key_len, int multiprocessors) {
  const int blocks = batch * kv_heads;
  const int want = (4 * multiprocessors + blocks - 1) / blocks;
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
  // Whole tiles per split.
  const int chunk = ((a.key_len + a.splits - 1) / a.splits + kTile - 1) / kTile * kTile;
  const cudaError_t status = a.head_dim == 64 ? launch_partial<64>(a, chunk, stream) : launch_partial<128>(a, chunk, stream);
  if (status != cudaSuccess || a.splits == 1) return status;
  return cuda::launch_dependent(decode_attention_merge_kernel, dim3(a.heads, a.batch), dim3(a.head_dim), 0, stream, a);
}

}  // namespace grpo::model::kernels
