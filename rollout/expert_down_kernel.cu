// Split-K expert down projection on tensor cores; see expert_down_kernel.h.
#include "rollout/expert_down_kernel.h"

#include "core/cuda/cp_async.cuh"
#include "core/cuda/mma.cuh"

namespace grpo::rollout::kernels {
namespace {

using cuda::load_a;
using cuda::mma_16816;
using cuda::pair;

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kTileH = 16 * kWarps;  // output features per block: 16 per warp (the MMA's M)
constexpr int kTileN = 64;           // tokens per block: 8 MMA column tiles
constexpr int kTileK = 32;           // K of one tile: I and Is are multiples of it
constexpr int kPitch = kTileK + 8;   // padded rows: the 8 rows of a fragment load hit distinct banks
constexpr int kMaxDevices = 64;

// One K tile in shared memory.
struct Tile {
  uint16_t weight[kTileH][kPitch];  // W rows h, K-contiguous: the MMA's A operand
  uint16_t hidden[kTileN][kPitch];  // activation rows n, K-contiguous: B[k][n] = hidden[n][k]
};

// The pipeline: kStages stages of kTilesPerStage consecutive K tiles each (consecutive tiles of
// one expert are consecutive 64-byte pieces of each weight row, fetched together).
template <int kStages_, int kTilesPerStage_>
struct Pipeline {
  static constexpr int kStages = kStages_, kTilesPerStage = kTilesPerStage_;
  static constexpr size_t kSmemBytes = sizeof(Tile) * kStages * kTilesPerStage;
};

// Where K tile `tile` lives: routed expert e's columns [i0, i0 + 32), or the shared experts'.
struct TileSource {
  const uint16_t* weight;  // row h = features row 0 of the tile, rows `weight_stride` apart
  const uint16_t* hidden;  // token row 0 of the tile, rows `hidden_stride` apart
  int64_t weight_stride, hidden_stride;
};

// K tiles of the whole product: every routed expert's, then the shared experts'.
__host__ __device__ __forceinline__ int total_tiles(int experts, int inter, int shared_inter) {
  return experts * (inter / kTileK) + shared_inter / kTileK;
}

__device__ __forceinline__ TileSource tile_source(const ExpertDownArgs& a, int tile, int h0, int n0) {
  const int routed_tiles_per_expert = a.inter / kTileK;
  const int routed_tiles = a.experts * routed_tiles_per_expert;
  if (tile < routed_tiles) {
    const int e = tile / routed_tiles_per_expert, i0 = (tile % routed_tiles_per_expert) * kTileK;
    const auto* w = static_cast<const uint16_t*>(a.weight) + (static_cast<int64_t>(e) * a.features + h0) * a.inter + i0;
    const auto* x = static_cast<const uint16_t*>(a.hidden) + (static_cast<int64_t>(e) * a.tokens + n0) * a.inter + i0;
    return {w, x, a.inter, a.inter};
  }
  const int j0 = (tile - routed_tiles) * kTileK;
  const auto* w = static_cast<const uint16_t*>(a.shared_weight) + static_cast<int64_t>(h0) * a.shared_inter + j0;
  const auto* x = static_cast<const uint16_t*>(a.shared_hidden) + n0 * a.shared_hidden_stride + j0;
  return {w, x, a.shared_inter, a.shared_hidden_stride};
}

// Issues the copies of one K tile into `s`: 128 weight rows and 64 token rows of 64 bytes, as
// 16-byte pieces (two weight pieces and one token piece per thread); token rows past N are zeros.
__device__ __forceinline__ void load_tile(Tile& s, const TileSource& src, int rows_valid) {
#pragma unroll
  for (int k = 0; k < 2; ++k) {
    const int piece = threadIdx.x + k * kThreads, row = piece / 4, col = (piece % 4) * 8;
    cuda::cp_async_16(&s.weight[row][col], src.weight + row * src.weight_stride + col, true);
  }
  const int row = threadIdx.x / 4, col = (threadIdx.x % 4) * 8;
  const bool valid = row < rows_valid;
  cuda::cp_async_16(&s.hidden[row][col], src.hidden + (valid ? row * src.hidden_stride + col : 0), valid);
}

// Block (feature tile, split, token tile): the K tiles [begin, end) of its split through a
// P::kStages-deep cp.async pipeline; warp w multiplies features [16w, 16w + 16) by all the tile's
// tokens, then writes its float32 partial sums.
template <class P>
__global__ void __launch_bounds__(kThreads, 2) expert_down_kernel(ExpertDownArgs a, int tiles_per_split) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  Tile* tiles = reinterpret_cast<Tile*>(smem_raw);  // stage s: tiles [s * kTilesPerStage, ...)
  const int h0 = blockIdx.x * kTileH, split = blockIdx.y, n0 = blockIdx.z * kTileN;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int begin = split * tiles_per_split, end = min(total_tiles(a.experts, a.inter, a.shared_inter), begin + tiles_per_split);
  const int count = max(end - begin, 0);
  const int stages = (count + P::kTilesPerStage - 1) / P::kTilesPerStage;
  const int rows_valid = min(kTileN, a.tokens - n0);
  const int column_tiles = (rows_valid + 7) / 8;  // MMA column tiles holding real tokens
  auto load_stage = [&](int stage) {
#pragma unroll
    for (int u = 0; u < P::kTilesPerStage; ++u) {
      const int k = stage * P::kTilesPerStage + u;
      if (k < count)
        load_tile(tiles[(stage % P::kStages) * P::kTilesPerStage + u], tile_source(a, begin + k, h0, n0), rows_valid);
    }
  };

#pragma unroll
  for (int s = 0; s < P::kStages - 1; ++s) {
    if (s < stages) load_stage(s);
    cuda::cp_async_commit();
  }

  float acc[kTileN / 8][4] = {};
  for (int st = 0; st < stages; ++st) {
    cuda::cp_async_wait<P::kStages - 2>();  // stage st has landed (for this thread's copies) ...
    __syncthreads();                         // ... for every thread's, and stage st - 1's buffers are free
    if (st + P::kStages - 1 < stages) load_stage(st + P::kStages - 1);
    cuda::cp_async_commit();
#pragma unroll
    for (int u = 0; u < P::kTilesPerStage; ++u) {
      if (st * P::kTilesPerStage + u >= count) break;
      const Tile& s = tiles[(st % P::kStages) * P::kTilesPerStage + u];
#pragma unroll
      for (int k0 = 0; k0 < kTileK; k0 += 16) {
        uint32_t frag[4];
        load_a<kPitch>(frag, s.weight + warp * 16, g, t, k0);
#pragma unroll
        for (int j = 0; j < kTileN / 8; ++j) {
          if (j >= column_tiles) break;  // warp-uniform: the block's tokens end here
          const uint16_t* row = s.hidden[j * 8 + g];
          mma_16816(acc[j], frag, pair(row + k0 + 2 * t), pair(row + k0 + 8 + 2 * t));
        }
      }
    }
  }

  // acc[j] holds C[h][n] for h = g, g + 8 (of the warp's 16) and n = 8j + 2t, 8j + 2t + 1.
  float* out = a.partials + static_cast<int64_t>(split) * a.tokens * a.features;
  const int h = h0 + warp * 16 + g;
#pragma unroll
  for (int j = 0; j < kTileN / 8; ++j) {
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int n = j * 8 + 2 * t + (c & 1), row_h = h + (c >> 1) * 8;
      if (n < rows_valid) out[static_cast<int64_t>(n0 + n) * a.features + row_h] = acc[j][c];
    }
  }
}

// Splits giving about `blocks` blocks, at most one per K tile.
int splits_for(int tokens, int features, int inter, int experts, int shared_inter, int blocks) {
  const int tiles = (features / kTileH) * ((tokens + kTileN - 1) / kTileN);
  const int splits = (blocks + tiles - 1) / tiles, most = total_tiles(experts, inter, shared_inter);
  return splits < 1 ? 1 : (splits > most ? most : splits);
}

template <class P>
cudaError_t launch_with(const ExpertDownArgs& a, cudaStream_t stream) {
  if (a.tokens == 0) return cudaSuccess;
  if (!expert_down_supported(a.features, a.inter, a.shared_inter) || a.splits < 1 ||
      (a.shared_inter > 0 && (a.shared_hidden == nullptr || a.shared_weight == nullptr)))
    return cudaErrorInvalidValue;
  // More than the default 48 KiB of shared memory needs an opt-in, once per device.
  static bool configured[kMaxDevices] = {};
  int device = 0;
  if (const cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return e;
  if (device >= kMaxDevices) return cudaErrorInvalidDevice;
  if (!configured[device]) {
    const cudaError_t e = cudaFuncSetAttribute(expert_down_kernel<P>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(P::kSmemBytes));
    if (e != cudaSuccess) return e;
    configured[device] = true;
  }
  const int tiles_per_split = (total_tiles(a.experts, a.inter, a.shared_inter) + a.splits - 1) / a.splits;
  const dim3 grid(a.features / kTileH, a.splits, (a.tokens + kTileN - 1) / kTileN);
  expert_down_kernel<P><<<grid, kThreads, P::kSmemBytes, stream>>>(a, tiles_per_split);
  return cudaGetLastError();
}

}  // namespace

bool expert_down_supported(int features, int inter, int shared_inter) {
  return features > 0 && features % kTileH == 0 && inter > 0 && inter % kTileK == 0 && shared_inter >= 0 &&
         shared_inter % kTileK == 0;
}

// The configuration launch_expert_down runs. bench/rollout/expert_down_sweep.cu times others on
// the H200: deeper pipelines, two tiles per stage and one or three to four blocks per
// multiprocessor were all slower (31-35 us against 42-83 us for the rest, 14 us floor).
using DefaultPipeline = Pipeline<4, 1>;
constexpr int kDefaultBlocksPerMultiprocessor = 2;

int expert_down_splits(int tokens, int features, int inter, int experts, int shared_inter, int multiprocessors) {
  return splits_for(tokens, features, inter, experts, shared_inter, kDefaultBlocksPerMultiprocessor * multiprocessors);
}

cudaError_t launch_expert_down(const ExpertDownArgs& a, cudaStream_t stream) {
  return launch_with<DefaultPipeline>(a, stream);
}

}  // namespace grpo::rollout::kernels
