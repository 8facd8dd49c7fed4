// Tensor-core helpers for the project's CUDA kernels: one m16n8k16 MMA (bf16 inputs, float32
// accumulators) and its fragments read from row-major bf16 arrays in shared memory.
#pragma once

#include <cstdint>

#include "core/cuda/bfloat16.cuh"  // pack

namespace grpo::cuda {

// c += a · b for one m16n8k16 tile. Fragments (PTX ISA, "Matrix fragments for mma.m16n8k16"),
// with g = lane / 4 and t = lane % 4: a holds A[g][2t..], A[g+8][2t..], A[g][2t+8..], A[g+8][2t+8..]
// (two bf16 per word, the lower column in the low half); b holds B[2t..][g] and B[2t+8..][g];
// c holds C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1].
__device__ __forceinline__ void mma_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
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

}  // namespace grpo::cuda
