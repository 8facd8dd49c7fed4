// Tensor-core helpers for the project's CUDA kernels: one m16n8k16 MMA (bf16 inputs, float32
// accumulators), its fragments read from row-major bf16 arrays in shared memory, and the
// weight-streaming chunk product of the decode GEMMs (mma_chunk32, mma_chunk32_rows) with the
// copy of token rows into the layout it reads (stage_chunk_rows).
#pragma once

#include <cstdint>

#include "core/cuda/bfloat16.cuh"  // pack
#include "core/cuda/cp_async.cuh"

namespace grpo::cuda {

// c += a · b for one m16n8k16 tile. Fragments (PTX ISA, "Matrix fragments for mma.m16n8k16"),
// with g = lane / 4 and t = lane % 4: a holds A[g][2t..], A[g+8][2t..], A[g][2t+8..], A[g+8][2t+8..]
// (two bf16 per word, the lower column in the low half); b holds B[2t..][g] and B[2t+8..][g];
// c holds C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1].
__device__ __forceinline__ void mma_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  // Not volatile: a pure function of its operands, which the compiler may schedule freely (after
  // the loads that feed it, say).
  asm(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two consecutive bf16 in shared memory as one word (the address is 4-byte aligned).
__device__ __forceinline__ uint32_t pair(const uint16_t* p) { return *reinterpret_cast<const uint32_t*>(p); }

// The A fragment of rows g and g + 8 at columns k0 + 2t (+8) of a row-major bf16 array.
template <int kPitch>
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const uint16_t (*rows)[kPitch], int g, int t, int k0) {
  a[0] = pair(&rows[g][k0 + 2 * t]);
  a[1] = pair(&rows[g + 8][k0 + 2 * t]);
  a[2] = pair(&rows[g][k0 + 8 + 2 * t]);
  a[3] = pair(&rows[g + 8][k0 + 8 + 2 * t]);
}

// The B fragment of an 8-column tile starting at column n0 (lane's column n0 + g) over rows
// k0 .. k0 + 15 of a row-major bf16 array: B[k][n] = rows[k][n] (the P·V operand).
template <int kPitch>
__device__ __forceinline__ void load_b_rows(uint32_t& b0, uint32_t& b1, const uint16_t (*rows)[kPitch], int g, int t,
                                            int k0, int n0) {
  const int n = n0 + g;
  b0 = pack(rows[k0 + 2 * t][n], rows[k0 + 2 * t + 1][n]);
  b1 = pack(rows[k0 + 8 + 2 * t][n], rows[k0 + 9 + 2 * t][n]);
}

// 16 bytes of shared memory as one 128-bit load (a plain uint4 read may be split into 32- and
// 64-bit loads, which conflict on banks where the 128-bit one does not).
__device__ __forceinline__ uint4 load_shared_16(const void* p) {
  uint4 v;
  asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "r"(static_cast<unsigned>(__cvta_generic_to_shared(p)))
               : "memory");  // ordered with the barriers and copies that fill the buffer
  return v;
}

// Streaming a weight matrix from global memory straight into A fragments. A dot product does not
// care in which order its K terms come, so a 32-wide K chunk can be handed to two m16n8k16 steps
// in any order, as long as A and B agree. In the order used here, lane (g, t) holds the chunk's
// columns [8t, 8t + 8) of its rows g and g + 8 as one 16-byte load each: words 0, 1 are the
// first step's columns 2t.., 2t+8.. and words 2, 3 the second step's. The B operand is read with
// the same 16 bytes of token row g. Each weight byte is read by one load instruction and used by
// one warp, with no shared-memory pass: the pattern of bandwidth-bound decode GEMMs (few tokens,
// many weights).
//
// The tokens' chunk sits in shared memory as 64 rows of 32 bf16 (64 bytes each, 4 KiB): the 8
// lanes of a shared-memory phase read 128 consecutive bytes, without bank conflicts, and every
// column tile is at a fixed offset. chunk_row is the lane's row g at column 8t of the chunk.
// c[j] += A · B_j for the 8 column tiles j of 8 tokens; all B loads go first and every tile's
// first step before any second step, so that no MMA waits on the one before it.
constexpr int kChunkRows = 64, kChunkWidth = 32;

// mma_chunk32 over chosen token rows: column tile j takes, in lane (g, t), the 16 bytes at
// chunk + offset[j] (the offset of token row r at column 8t is r * kChunkWidth + 8t), and only
// the first `tiles` tiles are computed (`tiles` must be the same in every lane of the warp). A
// GEMM whose B columns are sparse (an expert's few tokens among 64) packs the columns it needs
// into the first tiles and skips the rest.
__device__ __forceinline__ void mma_chunk32_rows(float (&c)[8][4], const uint4& row_g, const uint4& row_g8,
                                                 const uint16_t* chunk, const int (&offset)[8], int tiles) {
  uint4 b[8];
#pragma unroll
  for (int j = 0; j < 8; ++j)
    if (j < tiles) b[j] = load_shared_16(chunk + offset[j]);
  const uint32_t a0[4] = {row_g.x, row_g8.x, row_g.y, row_g8.y};
  const uint32_t a1[4] = {row_g.z, row_g8.z, row_g.w, row_g8.w};
#pragma unroll
  for (int j = 0; j < 8; ++j)
    if (j < tiles) mma_16816(c[j], a0, b[j].x, b[j].y);
#pragma unroll
  for (int j = 0; j < 8; ++j)
    if (j < tiles) mma_16816(c[j], a1, b[j].z, b[j].w);
}

// Every token row of the chunk in order: tile j is rows 8j .. 8j + 7, chunk_row is the lane's
// row g at column 8t.
__device__ __forceinline__ void mma_chunk32(float (&c)[8][4], const uint4& row_g, const uint4& row_g8,
                                            const uint16_t* chunk_row) {
  constexpr int kTileStride = 8 * kChunkWidth;
  const int in_order[8] = {0, kTileStride, 2 * kTileStride, 3 * kTileStride,
                           4 * kTileStride, 5 * kTileStride, 6 * kTileStride, 7 * kTileStride};
  mma_chunk32_rows(c, row_g, row_g8, chunk_row, in_order, 8);
}

// Copies the kChunkRows token rows first_row, first_row + 1, ... (rows `stride` elements apart;
// zeros from row rows_valid on) of a row-major bf16 array, 8 * vectors columns from `src`, into
// the chunked layout mma_chunk32 reads ([8 * vectors / 32][64][32] at dst), with cp.async over
// the block's kThreads threads. The caller commits the group and waits for it.
template <int kThreads>
__device__ __forceinline__ void stage_chunk_rows(uint16_t* dst, const uint16_t* src, int64_t stride, int first_row,
                                                 int rows_valid, int vectors) {
  for (int p = threadIdx.x; p < kChunkRows * vectors; p += kThreads) {
    const int row = p / vectors, col = (p % vectors) * 8;
    const bool valid = row < rows_valid;
    cp_async_16(dst + (col / kChunkWidth) * (kChunkRows * kChunkWidth) + row * kChunkWidth + col % kChunkWidth,
                src + (valid ? static_cast<int64_t>(first_row + row) * stride + col : 0), valid);
  }
}

// A 16-byte global load that bypasses L1 (each weight byte is read once) and asks L2 to fetch
// the whole 256-byte span around it from memory, which the next chunks of the row will read.
__device__ __forceinline__ uint4 load_streaming(const void* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

}  // namespace grpo::cuda
