// Absorbed MLA decode kernels; see mla_decode_kernel.h.
#include "model/kernels/attention/mla_decode_kernel.h"

#include <cmath>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/cp_async.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "core/cuda/device_facts.h"
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

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kHeadsPerBlock = 16;  // the MMA's M: one block serves 16 heads of one row
constexpr int kTile = 64;           // keys per tile: 8 per warp for the scores, 2 per lane for the softmax
// A split is at least this many keys: below it, a second block's setup and the merge kernel cost
// more than the tiles they take over (the rollout's 64 rows of up to 256 keys run one split).
constexpr int kMinKeysPerSplit = 256;
constexpr int kMaxSplits = 64;
constexpr float kLog2e = 1.4426950408889634f;

// Tiles in flight: the (256, 32) shape keeps three in shared memory, (512, 64) two.
template <int DC>
__host__ __device__ constexpr int stages() {
  return DC <= 256 ? 3 : 2;
}

// Shared memory of one block. Rows are padded by 8 bf16 so that the 8 rows a fragment load
// touches fall in different banks.
template <int DC, int DR>
struct Smem {
  static constexpr int kDims = DC + DR;
  static constexpr int kPitch = kDims + 8;
  static constexpr int kProbPitch = kTile + 8;
  uint16_t q[kHeadsPerBlock][kPitch];              // [q_latent | q_rope] per head
  uint16_t entries[stages<DC>()][kTile][kPitch];   // cache entries: keys, and their first DC dims the values
  uint16_t probs[kHeadsPerBlock][kProbPitch];      // bf16 probabilities of the tile (the P·V operand)
  float scores[kHeadsPerBlock][kTile];
  float row_max[kHeadsPerBlock], row_sum[kHeadsPerBlock], rescale[kHeadsPerBlock];
};

// Block (16-head group, row, split): the split's keys in 64-key tiles, each copied into shared
// memory (cp.async) stages() - 1 tiles ahead of the one being computed, so a row's cache is read
// in about one memory latency rather than one per tile. Per tile: score it on tensor cores (warp
// w: keys 8w..8w+7 for the 16 heads), update the running softmax per head (warp w: heads 2w,
// 2w+1), and accumulate P·V on tensor cores (warp w: output dims [w·DC/8, (w+1)·DC/8)).
template <int DC, int DR>
__global__ void __launch_bounds__(kThreads) mla_decode_partial_kernel(MlaDecodeArgs a, int chunk) {
  using S = Smem<DC, DR>;
  constexpr int kDims = S::kDims, kStages = stages<DC>();
  constexpr int kDimTiles = DC / 8 / kWarps;  // 8-dim output tiles per warp
  extern __shared__ __align__(16) unsigned char smem_raw[];
  S& sm = *reinterpret_cast<S*>(smem_raw);
  cuda::start_after_prerequisite_grids();

  const int head0 = blockIdx.x * kHeadsPerBlock, b = blockIdx.y, split = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int64_t last = a.positions[static_cast<int64_t>(b) * a.positions_stride];
  const int count = static_cast<int>(last < 0 ? 1 : (last >= a.key_len ? a.key_len : last + 1));
  const int begin = split * chunk, end = min(count, begin + chunk);
  const int tiles = end > begin ? (end - begin + kTile - 1) / kTile : 0;

  // Tile i of the split into stage i % kStages; keys past `end` are zeros: their probabilities
  // are 0, and zeros keep P·V free of whatever the cache holds there. Every thread commits a
  // group per tile, empty past the last, so that waiting for "all but kStages - 2" always means
  // the tile about to be computed.
  const auto* cache = static_cast<const uint16_t*>(a.cache) + b * a.cache_batch_stride;
  auto stage_tile = [&](int i) {
    if (i < tiles) {
      constexpr int kRowVectors = kDims / 8, kVectors = kTile * kRowVectors;
      static_assert(kVectors % kThreads == 0, "whole vectors per thread");
      const int first = begin + i * kTile;
#pragma unroll
      for (int k = 0; k < kVectors / kThreads; ++k) {
        const int v = threadIdx.x + k * kThreads, r = v / kRowVectors, c = v % kRowVectors;
        const bool valid = first + r < end;
        cuda::cp_async_16(&sm.entries[i % kStages][r][c * 8], cache + (valid ? (first + r) * a.cache_pos_stride : 0) + c * 8,
                          valid);
      }
    }
    cuda::cp_async_commit();
  };
#pragma unroll
  for (int i = 0; i < kStages - 1; ++i) stage_tile(i);

  // The 16 query rows [q_latent | q_rope], in 16-byte vectors: every load is issued before the
  // first store, so the block waits for global memory once rather than once per vector.
  const auto* q_latent = static_cast<const uint16_t*>(a.q_latent) + b * a.q_latent_batch_stride;
  const auto* q_rope = static_cast<const uint16_t*>(a.q_rope) + b * a.q_rope_batch_stride;
  {
    constexpr int kRowVectors = kDims / 8, kVectors = kHeadsPerBlock * kRowVectors;
    constexpr int kPerThread = (kVectors + kThreads - 1) / kThreads;
    uint4 staged[kPerThread];
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int i = threadIdx.x + k * kThreads, h = i / kRowVectors, c = i % kRowVectors;
      if (i < kVectors)
        staged[k] = c < DC / 8 ? *reinterpret_cast<const uint4*>(q_latent + (head0 + h) * a.q_latent_head_stride + c * 8)
                               : *reinterpret_cast<const uint4*>(q_rope + (head0 + h) * a.q_rope_head_stride + (c - DC / 8) * 8);
    }
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int i = threadIdx.x + k * kThreads, h = i / kRowVectors, c = i % kRowVectors;
      if (i < kVectors) *reinterpret_cast<uint4*>(&sm.q[h][c * 8]) = staged[k];
    }
  }
  if (threadIdx.x < kHeadsPerBlock) sm.row_max[threadIdx.x] = -INFINITY, sm.row_sum[threadIdx.x] = 0.f;

  float acc[kDimTiles][4];  // output rows g and g + 8, dims (warp·kDimTiles + j)·8 + 2t + {0, 1}
#pragma unroll
  for (int j = 0; j < kDimTiles; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
  const float score_scale = a.scale * kLog2e;

  for (int i = 0; i < tiles; ++i) {
    cuda::cp_async_wait<kStages - 2>();  // this thread's copies of tile i have landed
    __syncthreads();  // everyone's have; the previous tile's readers are done (and q is stored)
    stage_tile(i + kStages - 1);  // into the stage the previous tile used
    const uint16_t(*entries)[S::kPitch] = sm.entries[i % kStages];
    const int first = begin + i * kTile;

    score_tile<kDims, 6>(sm.q, entries, sm.scores, warp, g, t);  // C[row][key] = Q[row] · entries[key]
    __syncthreads();

    // Online softmax in base 2 (online_softmax.cuh); lane = keys lane and lane + 32 of the tile.
    online_softmax_tile<kHeadsPerBlock / kWarps, kTile / 32>(sm, warp * (kHeadsPerBlock / kWarps), end - first,
                                                             score_scale, lane);
    __syncthreads();

    // O = O · rescale + P · V: A = probs [head][key], B[key][dim] = entries[key][dim].
    const float r_low = sm.rescale[g], r_high = sm.rescale[g + 8];
#pragma unroll
    for (int j = 0; j < kDimTiles; ++j) acc[j][0] *= r_low, acc[j][1] *= r_low, acc[j][2] *= r_high, acc[j][3] *= r_high;
#pragma unroll
    for (int k0 = 0; k0 < kTile; k0 += 16) {
      uint32_t p_frag[4];
      load_a<S::kProbPitch>(p_frag, sm.probs, g, t, k0);
#pragma unroll
      for (int j = 0; j < kDimTiles; ++j) {
        uint32_t b0, b1;
        load_b_rows<S::kPitch>(b0, b1, entries, g, t, k0, (warp * kDimTiles + j) * 8);
        mma_16816(acc[j], p_frag, b0, b1);
      }
    }
  }
  cuda::cp_async_wait<0>();  // no copy outlives the block
  __syncthreads();  // the row statistics are final

  const int h_low = head0 + g, h_high = head0 + g + 8;
  if (a.splits == 1) {  // the whole row: normalize and write, no merge kernel
    const float inv_low = sm.row_sum[g] > 0.f ? 1.f / sm.row_sum[g] : 0.f;
    const float inv_high = sm.row_sum[g + 8] > 0.f ? 1.f / sm.row_sum[g + 8] : 0.f;
    auto* out = static_cast<uint16_t*>(a.out) + b * a.out_batch_stride;
#pragma unroll
    for (int j = 0; j < kDimTiles; ++j) {
      const int dim = (warp * kDimTiles + j) * 8 + 2 * t;
      *reinterpret_cast<uint32_t*>(out + h_low * a.out_head_stride + dim) =
          pack(float_to_bf16(acc[j][0] * inv_low), float_to_bf16(acc[j][1] * inv_low));
      *reinterpret_cast<uint32_t*>(out + h_high * a.out_head_stride + dim) =
          pack(float_to_bf16(acc[j][2] * inv_high), float_to_bf16(acc[j][3] * inv_high));
    }
    return;
  }
  const SplitWorkspace ws = split_workspace(a.workspace, a.batch, a.heads, DC, a.splits);
  const int64_t slot_low = (static_cast<int64_t>(b) * a.heads + h_low) * a.splits + split;
  const int64_t slot_high = (static_cast<int64_t>(b) * a.heads + h_high) * a.splits + split;
#pragma unroll
  for (int j = 0; j < kDimTiles; ++j) {
    const int dim = (warp * kDimTiles + j) * 8 + 2 * t;
    *reinterpret_cast<float2*>(ws.out + slot_low * DC + dim) = make_float2(acc[j][0], acc[j][1]);
    *reinterpret_cast<float2*>(ws.out + slot_high * DC + dim) = make_float2(acc[j][2], acc[j][3]);
  }
  if (warp == 0 && t == 0) {
    ws.max_sum[2 * slot_low] = sm.row_max[g], ws.max_sum[2 * slot_low + 1] = sm.row_sum[g];
    ws.max_sum[2 * slot_high] = sm.row_max[g + 8], ws.max_sum[2 * slot_high + 1] = sm.row_sum[g + 8];
  }
}

// Block (head, row), one thread per latent dim: merges the splits and writes bf16.
__global__ void mla_decode_merge_kernel(MlaDecodeArgs a) {
  cuda::start_after_prerequisite_grids();
  const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x, D = a.latent_dim;
  const SplitWorkspace ws = split_workspace(a.workspace, a.batch, a.heads, D, a.splits);
  const int64_t first = (static_cast<int64_t>(b) * a.heads + h) * a.splits;
  static_cast<uint16_t*>(a.out)[b * a.out_batch_stride + h * a.out_head_stride + d] =
      float_to_bf16(merge_splits(ws.out + first * D, ws.max_sum + 2 * first, a.splits, D, d));
}

template <int DC, int DR>
cudaError_t launch_partial(const MlaDecodeArgs& a, int chunk, cudaStream_t stream) {
  constexpr size_t bytes = sizeof(Smem<DC, DR>);
  auto* kernel = mla_decode_partial_kernel<DC, DR>;
  if (const cudaError_t status = cuda::allow_shared_bytes(kernel, bytes); status != cudaSuccess) return status;
  return cuda::launch_dependent(kernel, dim3(a.heads / kHeadsPerBlock, a.batch, a.splits), dim3(kThreads), bytes, stream,
                                a, chunk);
}

}  // namespace

bool mla_decode_supported(int latent_dim, int rope_dim, int heads) {
  return ((latent_dim == 256 && rope_dim == 32) || (latent_dim == 512 && rope_dim == 64)) && heads > 0 &&
         heads % kHeadsPerBlock == 0;
}

int mla_decode_splits(int batch, int heads, int key_len, int multiprocessors) {
  const int blocks = batch * (heads / kHeadsPerBlock);
  const int want = (multiprocessors + blocks - 1) / blocks;
  const int most = (key_len + kMinKeysPerSplit - 1) / kMinKeysPerSplit;
  const int splits = want < most ? want : most;
  return splits < 1 ? 1 : (splits > kMaxSplits ? kMaxSplits : splits);
}

size_t mla_decode_workspace_bytes(int batch, int heads, int latent_dim, int splits) {
  return split_workspace_bytes(batch, heads, latent_dim, splits);
}

cudaError_t launch_mla_decode(const MlaDecodeArgs& a, cudaStream_t stream) {
  if (a.batch == 0) return cudaSuccess;
  if (!mla_decode_supported(a.latent_dim, a.rope_dim, a.heads) || a.key_len < 1 || a.splits < 1)
    return cudaErrorInvalidValue;
  // Whole tiles per split.
  const int chunk = ((a.key_len + a.splits - 1) / a.splits + kTile - 1) / kTile * kTile;
  const cudaError_t status = a.latent_dim == 256 ? launch_partial<256, 32>(a, chunk, stream)
                                                 : launch_partial<512, 64>(a, chunk, stream);
  if (status != cudaSuccess) return status;
  if (a.splits == 1) return cudaSuccess;
  return cuda::launch_dependent(mla_decode_merge_kernel, dim3(a.heads, a.batch), dim3(a.latent_dim), 0, stream, a);
}

}  // namespace grpo::model::kernels
