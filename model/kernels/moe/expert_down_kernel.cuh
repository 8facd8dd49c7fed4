// The templates behind expert_down_kernel.cu: every configuration of the kernel, so that
// bench/model/moe_sweep can time others than the one the library launches (DefaultShape).
// Included by that .cu and by the sweep only.
#pragma once

#include "model/kernels/moe/expert_down_kernel.h"

#include <algorithm>
#include "core/cuda/cp_async.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "core/cuda/device_facts.h"
#include "core/cuda/mma.cuh"

namespace grpo::model::kernels {
namespace expert_down_impl {

using cuda::load_streaming;
using cuda::mma_chunk32;

constexpr int kTileN = cuda::kChunkRows;  // tokens per block: 8 MMA column tiles
constexpr int kChunk = cuda::kChunkWidth;  // K of one mma_chunk32
constexpr int kChunkElems = kTileN * kChunk;

// The K axis is a list of 32-wide chunks: every routed expert's I / 32, then the shared experts'
// Is / 32. A segment is one expert's chunks (the shared experts are the last segment).
struct Chunks {
  int per_expert, routed, total;
  __host__ __device__ Chunks(const ExpertDownArgs& a)
      : per_expert(a.inter / kChunk), routed(a.experts * (a.inter / kChunk)), total(routed + a.shared_inter / kChunk) {}
  __device__ int segment(int c) const { return c < routed ? c / per_expert : routed / per_expert; }
  __device__ int segment_end(int c) const { return c < routed ? (c / per_expert + 1) * per_expert : total; }
};

// The kernel's shape: kWarps warps of 16 features each per block, two rings of kDepth weight
// chunks per lane, activation pieces of at most kPieceChunks chunks in two shared-memory stages.
template <int kWarps_, int kDepth_, int kPieceChunks_, int kBlocksPerMultiprocessor_>
struct Shape {
  static constexpr int kWarps = kWarps_, kDepth = kDepth_, kPieceChunks = kPieceChunks_;
  static constexpr int kBlocksPerMultiprocessor = kBlocksPerMultiprocessor_;
  static constexpr int kFeatures = 16 * kWarps;
  static constexpr size_t kSharedBytes = 2 * size_t(kPieceChunks) * kChunkElems * 2;
};

// Block (feature tile, split, token tile) multiplies the chunks [begin, end) of its split. Lane
// (g, t) of warp w streams weight rows h0 + 16w + g and + 8 straight into MMA operands
// (mma_chunk32) through two register rings of kDepth chunks: the MMAs use one while the other's
// loads are in flight. The activations come in pieces (up to kPieceChunks consecutive chunks of
// one segment) through two shared-memory stages, the next piece landing while the block
// multiplies the current one.
template <class S>
__global__ void __launch_bounds__(S::kWarps * 32, S::kBlocksPerMultiprocessor)
    expert_down_kernel(ExpertDownArgs a, int chunks_per_split) {
  constexpr int kThreads = S::kWarps * 32, kStageElems = S::kPieceChunks * kChunkElems;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  uint16_t* stages = reinterpret_cast<uint16_t*>(smem_raw);  // [2][kPieceChunks][64][32]
  cuda::allow_dependent_grids();
  const Chunks chunks(a);
  const int h0 = blockIdx.x * S::kFeatures, split = blockIdx.y, n0 = blockIdx.z * kTileN;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int begin = split * chunks_per_split, end = min(chunks.total, begin + chunks_per_split);
  const int rows_valid = min(kTileN, a.tokens - n0);
  const int h = h0 + warp * 16 + g;  // the lane's first weight row; the second is h + 8

  // Weight loads: the lane's rows of chunk load_chunk, stepping 32 columns a chunk and jumping at
  // the end of each segment.
  int load_chunk = begin, load_segment_end = begin;
  const uint16_t* load_row = nullptr;
  int64_t load_stride = 0;
  struct Ring {
    uint4 low[S::kDepth], high[S::kDepth];
  } ring[2];
  auto refill = [&](Ring& r) {
#pragma unroll
    for (int d = 0; d < S::kDepth; ++d) {
      if (load_chunk < end) {
        if (load_chunk == load_segment_end) {
          load_segment_end = chunks.segment_end(load_chunk);
          if (load_chunk < chunks.routed) {
            const int e = load_chunk / chunks.per_expert;
            load_stride = a.inter;
            load_row = static_cast<const uint16_t*>(a.weight) + (static_cast<int64_t>(e) * a.features + h) * a.inter +
                       (load_chunk - e * chunks.per_expert) * kChunk + 8 * t;
          } else {
            load_stride = a.shared_inter;
            load_row = static_cast<const uint16_t*>(a.shared_weight) + static_cast<int64_t>(h) * a.shared_inter +
                       (load_chunk - chunks.routed) * kChunk + 8 * t;
          }
        }
        r.low[d] = load_streaming(load_row);
        r.high[d] = load_streaming(load_row + 8 * load_stride);
        load_row += kChunk;
      }
      ++load_chunk;
    }
  };
  refill(ring[0]);  // launched as a dependent: while the gate/up kernel before it finishes
  cuda::wait_for_prerequisite_grids();  // the activations are its output

  // The piece starting at chunk c: up to kPieceChunks chunks of one segment, within the split.
  auto piece_end = [&](int c) { return min(min(chunks.segment_end(c), c + S::kPieceChunks), end); };
  // Stages the activations of chunks [c, c_end) (zeros past N), chunk by chunk (mma_chunk32).
  auto stage_piece = [&](int c, int c_end, int stage) {
    const int segment = chunks.segment(c), vectors = (c_end - c) * kChunk / 8;
    const uint16_t* src;
    int64_t stride;
    if (c < chunks.routed) {
      stride = a.inter;
      src = static_cast<const uint16_t*>(a.hidden) + static_cast<int64_t>(segment) * a.tokens * a.inter +
            static_cast<int64_t>(n0) * a.inter + (c - segment * chunks.per_expert) * kChunk;
    } else {
      stride = a.shared_hidden_stride;
      src = static_cast<const uint16_t*>(a.shared_hidden) + static_cast<int64_t>(n0) * stride + (c - chunks.routed) * kChunk;
    }
    cuda::stage_chunk_rows<kThreads>(stages + stage * kStageElems, src, stride, 0, rows_valid, vectors);
    cuda::cp_async_commit();
  };

  int piece = begin, next_piece = begin < end ? piece_end(begin) : end, stage = 0;
  if (begin < end) stage_piece(begin, next_piece, 0);
  const uint16_t* lane_row = stages;  // lane's row g, column 8t of the current piece's first chunk
  int piece_start = begin;
  float acc[8][4] = {};
  for (int c0 = begin; c0 < end; c0 += 2 * S::kDepth) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      refill(ring[half ^ 1]);
#pragma unroll
      for (int d = 0; d < S::kDepth; ++d) {
        const int c = c0 + half * S::kDepth + d;
        if (c < end) {
          if (c == piece) {  // a new piece: wait for it, free the other stage, stage the one after
            cuda::cp_async_wait<0>();
            __syncthreads();
            lane_row = stages + stage * kStageElems + g * kChunk + 8 * t;
            piece_start = c;
            const int following = next_piece;
            if (following < end) {
              next_piece = piece_end(following);
              stage_piece(following, next_piece, stage ^ 1);
            }
            piece = following;
            stage ^= 1;
          }
          mma_chunk32(acc, ring[half].low[d], ring[half].high[d], lane_row + (c - piece_start) * kChunkElems);
        }
      }
    }
  }

  // acc[j] holds C[h][n] for h = g, g + 8 (of the warp's 16) and n = 8j + 2t, 8j + 2t + 1.
  float* out = a.partials + static_cast<int64_t>(split) * a.tokens * a.features;
#pragma unroll
  for (int j = 0; j < 8; ++j) {
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const int n = j * 8 + 2 * t + (q & 1), row_h = h + (q >> 1) * 8;
      if (n < rows_valid) out[static_cast<int64_t>(n0 + n) * a.features + row_h] = acc[j][q];
    }
  }
}

// Splits giving about `blocks` blocks, at most one per chunk.
template <class S>
int splits_for(const ExpertDownArgs& a, int blocks) {
  const int tiles = (a.features / S::kFeatures) * ((a.tokens + kTileN - 1) / kTileN);
  const int splits = (blocks + tiles - 1) / tiles, most = Chunks(a).total;
  return std::max(1, std::min(splits, most));
}

template <class S>
cudaError_t launch_with(const ExpertDownArgs& a, cudaStream_t stream) {
  if (a.tokens == 0) return cudaSuccess;
  if (a.features % S::kFeatures != 0 || !expert_down_supported(a.features, a.inter, a.shared_inter) || a.splits < 1 ||
      (a.shared_inter > 0 && (a.shared_hidden == nullptr || a.shared_weight == nullptr)))
    return cudaErrorInvalidValue;
  if (const cudaError_t e = cuda::allow_shared_bytes(expert_down_kernel<S>, S::kSharedBytes); e != cudaSuccess) return e;
  const int chunks_per_split = (Chunks(a).total + a.splits - 1) / a.splits;
  const dim3 grid(a.features / S::kFeatures, a.splits, (a.tokens + kTileN - 1) / kTileN);
  return cuda::launch_dependent(expert_down_kernel<S>, grid, dim3(S::kWarps * 32), S::kSharedBytes, stream, a,
                                chunks_per_split);
}

// The configuration launch_expert_down runs (bench/model/moe_sweep times others).
using DefaultShape = Shape<16, 2, 11, 1>;

}  // namespace expert_down_impl
}  // namespace grpo::model::kernels
