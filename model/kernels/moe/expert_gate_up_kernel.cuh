// The templates behind expert_gate_up_kernel.cu: every configuration of the kernel, so that
// bench/model/moe_sweep can time others than the one the library launches (DefaultShape).
// Included by that .cu and by the sweep only.
#pragma once

#include "model/kernels/moe/expert_gate_up_kernel.h"

#include <algorithm>
#include "core/cuda/bfloat16.cuh"
#include "core/cuda/cp_async.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "core/cuda/device_facts.h"
#include "core/cuda/mma.cuh"

namespace grpo::model::kernels {
namespace expert_gate_up_impl {

using cuda::load_streaming;
using cuda::mma_chunk32_rows;

constexpr int kTileN = cuda::kChunkRows;  // tokens per block: 8 MMA column tiles
constexpr int kChunk = cuda::kChunkWidth;  // K of one mma_chunk32
constexpr int kUnitRows = 8;  // a warp's unit of work: 8 gate rows and their 8 up rows, one M = 16 tile
constexpr int kMaxFeatures = 1536;
constexpr size_t kMaxSharedBytes = 227 * 1024;  // sm_90's opt-in limit per block
// The configuration launch_expert_gate_up runs (bench/model/moe_sweep times others).
constexpr int kDefaultWarps = 12, kDefaultDepth = 2;

constexpr int kMaxWarps = 16;

// The block's shared memory: the token tile chunk by chunk ([H / 32][64][32] bf16, see
// mma_chunk32), its routing weights [E][64] float32, and per warp the token list of its current
// unit [kMaxWarps][64] bytes.
inline size_t shared_bytes(int features, int experts) {
  return size_t(kTileN) * features * 2 + size_t(experts) * kTileN * 4 + size_t(kMaxWarps) * kTileN;
}

// Lane (g, t)'s two weight rows of unit u at column 8t: gate row g of the unit and its up row.
struct UnitRows {
  const uint16_t* gate;
  const uint16_t* up;
};

__device__ __forceinline__ UnitRows unit_rows(const ExpertGateUpArgs& a, int u, int g, int t) {
  const int per_expert = a.inter / kUnitRows, routed = a.experts * per_expert;
  const int64_t h = a.features;
  if (u < routed) {
    const int e = u / per_expert, i = (u % per_expert) * kUnitRows + g;
    const auto* w = static_cast<const uint16_t*>(a.weight) + static_cast<int64_t>(e) * 2 * a.inter * h;
    return {w + i * h + 8 * t, w + (a.inter + i) * h + 8 * t};
  }
  const int j = (u - routed) * kUnitRows + g;
  const auto* w = static_cast<const uint16_t*>(a.shared_weight);
  return {w + j * h + 8 * t, w + (a.shared_inter + j) * h + 8 * t};
}

// Warp w of the grid takes units w, w + W, w + 2W, ... (W warps in all), so the warps running at
// one time stream neighbouring rows. A unit is H / 32 chunks, taken kDepth at a time from two
// register rings: the MMAs use one while the loads of the next kDepth chunks, into the next unit
// at the end of one, fill the other (2 kDepth divides H / 32, so a ring never straddles units).
template <int kWarps, int kDepth>
__global__ void __launch_bounds__(kWarps * 32, 1) expert_gate_up_kernel(ExpertGateUpArgs a) {
  static_assert(kWarps <= kMaxWarps, "one token list per warp");
  constexpr int kThreads = kWarps * 32, kChunkElems = kTileN * kChunk;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  uint16_t* tile = reinterpret_cast<uint16_t*>(smem_raw);                                  // [H / 32][64][32]
  float* weights = reinterpret_cast<float*>(smem_raw + size_t(kTileN) * a.features * 2);  // [E][64]
  uint8_t* lists = reinterpret_cast<uint8_t*>(weights + size_t(a.experts) * kTileN);       // [kMaxWarps][64]
  cuda::allow_dependent_grids();
  const int n0 = blockIdx.y * kTileN, rows_valid = min(kTileN, a.tokens - n0);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int per_expert = a.inter / kUnitRows, routed = a.experts * per_expert;
  const int units = routed + a.shared_inter / kUnitRows;
  const int warp_count = gridDim.x * kWarps;
  const int chunks = a.features / kChunk;

  // 1. The first unit's first kDepth chunks, in flight while the block stages its tokens (and,
  // launched as a dependent, while the router before it finishes).
  int unit = blockIdx.x * kWarps + warp;
  int load_unit = unit, load_chunk = 0;
  UnitRows load = unit_rows(a, min(unit, units - 1), g, t);
  struct Ring {
    uint4 gate[kDepth], up[kDepth];
  } ring[2];
  auto refill = [&](Ring& r) {  // the next kDepth chunks of the warp's sequence of units
    if (load_unit < units) {
#pragma unroll
      for (int d = 0; d < kDepth; ++d) {
        r.gate[d] = load_streaming(load.gate + (load_chunk + d) * kChunk);
        r.up[d] = load_streaming(load.up + (load_chunk + d) * kChunk);
      }
    }
    load_chunk += kDepth;
    if (load_chunk == chunks) {
      load_chunk = 0;
      load_unit += warp_count;
      if (load_unit < units) load = unit_rows(a, load_unit, g, t);
    }
  };
  if (unit < units) refill(ring[0]);
  cuda::wait_for_prerequisite_grids();  // the tokens and routing weights are earlier kernels' outputs

  // 2. The tokens (zeros past N) and their routing weights (zeros past N) to shared memory.
  cuda::stage_chunk_rows<kThreads>(tile, static_cast<const uint16_t*>(a.x), a.x_stride, n0, rows_valid, a.features / 8);
  cuda::cp_async_commit();
  for (int p = threadIdx.x; p < a.experts * kTileN; p += kThreads) {
    const int e = p / kTileN, n = p % kTileN;
    weights[p] = n < rows_valid ? a.combine[static_cast<int64_t>(e) * a.tokens + n0 + n] : 0.f;
  }
  cuda::cp_async_wait<0>();
  __syncthreads();

  // 3. Unit by unit. A routed expert's tokens are packed into the first columns of the product
  // (column n' is token list[n']), so the MMAs cover only the 8-token tiles they fill (about one
  // of the eight with 6 experts of 64 chosen per token); the shared experts take every token.
  // MMAs on one ring's chunks while the other ring's are in flight; then SwiGLU of the
  // accumulators (c0, c1: gate; c2, c3: up, of columns 8j + 2t, + 1), times the routing weight,
  // rounded once. The down projection reads every token's row, so the others get zeros.
  uint8_t* list = lists + warp * kTileN;
  for (; unit < units; unit += warp_count) {
    const bool shared = unit >= routed;
    const int e = unit / per_expert;
    const float* expert_weights = weights + e * kTileN;
    int count = rows_valid;
    if (!shared) {
      const unsigned low = __ballot_sync(~0u, expert_weights[lane] != 0.f);
      const unsigned high = __ballot_sync(~0u, expert_weights[32 + lane] != 0.f);
      const unsigned below = (1u << lane) - 1;
      count = __popc(low) + __popc(high);
      __syncwarp();  // every lane is done reading the previous unit's list
      if (low >> lane & 1) list[__popc(low & below)] = static_cast<uint8_t>(lane);
      if (high >> lane & 1) list[__popc(low) + __popc(high & below)] = static_cast<uint8_t>(32 + lane);
      __syncwarp();
    }
    auto token = [&](int column) { return shared ? column : int(list[column]); };
    const int tiles = (count + 7) / 8;
    int offset[8];  // lane's token row of each column tile (row 0 past the count: never written out)
#pragma unroll
    for (int j = 0; j < 8; ++j) offset[j] = (8 * j + g < count ? token(8 * j + g) : 0) * kChunk + 8 * t;
    float acc[8][4] = {};
    for (int c0 = 0; c0 < chunks; c0 += 2 * kDepth) {
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        refill(ring[half ^ 1]);
#pragma unroll
        for (int d = 0; d < kDepth; ++d)
          mma_chunk32_rows(acc, ring[half].gate[d], ring[half].up[d], tile + (c0 + half * kDepth + d) * kChunkElems,
                           offset, tiles);
      }
    }
    const int64_t row_stride = shared ? a.shared_inter : a.inter;
    uint16_t* out = shared ? static_cast<uint16_t*>(a.shared_hidden) + (unit - routed) * kUnitRows
                           : static_cast<uint16_t*>(a.hidden) + static_cast<int64_t>(e) * a.tokens * a.inter +
                                 (unit % per_expert) * kUnitRows;
    out += static_cast<int64_t>(n0) * row_stride;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
#pragma unroll
      for (int q = 0; q < 2; ++q) {
        const int column = 8 * j + 2 * t + q;
        if (column < count) {
          const int n = token(column);
          const float gate = acc[j][q], up = acc[j][2 + q];
          const float w = shared ? 1.f : expert_weights[n];
          out[n * row_stride + g] = cuda::float_to_bf16(gate / (1.f + __expf(-gate)) * up * w);
        }
      }
    }
    if (!shared)  // the unit's 8 features of each token not routed here: one 16-byte store
      for (int n = lane; n < rows_valid; n += 32)
        if (expert_weights[n] == 0.f) *reinterpret_cast<uint4*>(out + n * row_stride) = make_uint4(0, 0, 0, 0);
  }
}

template <int kWarps, int kDepth>
cudaError_t launch_with(const ExpertGateUpArgs& a, int multiprocessors, cudaStream_t stream) {
  if (a.tokens == 0) return cudaSuccess;
  if (!expert_gate_up_supported(a.features, a.inter, a.experts, a.shared_inter) ||
      a.features % (2 * kChunk * kDepth) != 0 || multiprocessors < 1 ||
      (a.shared_inter > 0 && (a.shared_weight == nullptr || a.shared_hidden == nullptr)))
    return cudaErrorInvalidValue;
  if (const cudaError_t e = cuda::allow_shared_bytes(expert_gate_up_kernel<kWarps, kDepth>, kMaxSharedBytes);
      e != cudaSuccess)
    return e;
  const int units = a.experts * (a.inter / kUnitRows) + a.shared_inter / kUnitRows;
  const int blocks = std::min(multiprocessors, (units + kWarps - 1) / kWarps);
  const dim3 grid(blocks, (a.tokens + kTileN - 1) / kTileN);
  return cuda::launch_dependent(expert_gate_up_kernel<kWarps, kDepth>, grid, dim3(kWarps * 32),
                                shared_bytes(a.features, a.experts), stream, a);
}

}  // namespace expert_gate_up_impl
}  // namespace grpo::model::kernels
