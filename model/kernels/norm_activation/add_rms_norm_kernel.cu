// Residual add + RMSNorm kernel; see add_rms_norm_kernel.h.
#include "model/kernels/norm_activation/add_rms_norm_kernel.h"

#include <algorithm>
#include <climits>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::model::kernels {
namespace {

using cuda::bf16_to_float;
using cuda::float_to_bf16;
using cuda::high_bf16;
using cuda::low_bf16;
using cuda::pack;

constexpr int kMaxThreads = 256;
constexpr int kPerChunk = 8;        // bf16 in one 16-byte access
constexpr int kMaxChunksPerThread = 8;
// Summing partials, a block has as many threads as the registers of its chunks allow: 1024 (one
// column each at hidden 1024) up to two chunks a thread, fewer above.
constexpr int partial_block_limit(int chunks_per_thread) {
  return chunks_per_thread <= 2 ? 1024 : (chunks_per_thread <= 4 ? 512 : 256);
}

// The word of two bf16 sums r + d, each rounded to bf16; adds their squares to `squares`.
__device__ __forceinline__ uint32_t add_word(uint32_t r, uint32_t d, float& squares) {
  const uint16_t low = float_to_bf16(low_bf16(r) + low_bf16(d)), high = float_to_bf16(high_bf16(r) + high_bf16(d));
  const float lo = bf16_to_float(low), hi = bf16_to_float(high);
  squares = fmaf(lo, lo, squares);
  squares = fmaf(hi, hi, squares);
  return pack(low, high);
}

__device__ __forceinline__ uint32_t norm_word(uint32_t x, uint32_t w, float rstd) {
  return pack(float_to_bf16(low_bf16(x) * rstd * low_bf16(w)), float_to_bf16(high_bf16(x) * rstd * high_bf16(w)));
}

// The bf16 rounding of Σ_s partials[s] (in s order) for every column of the block's row, into
// shared memory. Thread t sums columns t, t + blockDim.x, ...; each thread requests a batch of
// kBatch splits before adding the first, so a row's splits are read in a few memory round trips
// rather than one per split: after a split-K GEMM the partials (33 splits of the MoE decode's
// down projection) are most of what the kernel reads.
__device__ __forceinline__ void sum_partials_to_shared(const AddRmsNormArgs& a, int64_t row, uint16_t* delta) {
  constexpr int kBatch = 16;
  const float* column = a.partials + row * a.hidden;
  for (int c = threadIdx.x; c < a.hidden; c += blockDim.x) {
    float sum = 0.f;
    for (int s0 = 0; s0 < a.partial_count; s0 += kBatch) {
      float v[kBatch];
#pragma unroll
      for (int k = 0; k < kBatch; ++k) v[k] = s0 + k < a.partial_count ? __ldg(column + (s0 + k) * a.partial_stride + c) : 0.f;
#pragma unroll
      for (int k = 0; k < kBatch; ++k)
        if (s0 + k < a.partial_count) sum += v[k];
    }
    delta[c] = float_to_bf16(sum);
  }
}

// Block per row; the first `chunk_threads` threads own chunks t, t + chunk_threads, ...
// (coalesced), at most kChunks of them. The new residual stays in registers as the packed bf16
// it is stored as (4 registers a chunk), so the norm reads nothing back. A thread issues all its
// loads before its first store: they are in flight together, where the compiler could not move a
// delta load above an earlier store to residual (it cannot prove the two apart). With partials,
// the whole block first sums them into shared memory (dynamic, hidden bf16), and that is the delta.
template <int kChunks>
__global__ void __launch_bounds__(partial_block_limit(kChunks)) add_rms_norm_kernel(AddRmsNormArgs a, int chunk_threads) {
  // Launched as a dependent (dependent_launch.cuh): every input but the weight is an earlier
  // kernel's output, so the block waits first; the next kernel (the router, say) may start early.
  cuda::start_after_prerequisite_grids();
  const int64_t row = blockIdx.x;
  auto* residual = static_cast<uint16_t*>(a.residual) + row * a.residual_stride;
  const auto* delta = static_cast<const uint16_t*>(a.delta) + row * a.delta_stride;
  const int chunks = a.hidden / kPerChunk;
  extern __shared__ __align__(16) uint16_t summed_delta[];
  if (a.partials != nullptr) {
    sum_partials_to_shared(a, row, summed_delta);
    __syncthreads();
    delta = summed_delta;
  }
  if (static_cast<int>(threadIdx.x) >= chunk_threads) return;

  uint4 x[kChunks], d[kChunks];
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int i = threadIdx.x + c * chunk_threads;
    if (i < chunks) {
      x[c] = *reinterpret_cast<const uint4*>(residual + i * kPerChunk);
      d[c] = a.partials != nullptr ? *reinterpret_cast<const uint4*>(delta + i * kPerChunk)
                                   : __ldg(reinterpret_cast<const uint4*>(delta + i * kPerChunk));
    }
  }
  float squares = 0.f;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int i = threadIdx.x + c * chunk_threads;
    if (i < chunks) {
      x[c] = make_uint4(add_word(x[c].x, d[c].x, squares), add_word(x[c].y, d[c].y, squares),
                        add_word(x[c].z, d[c].z, squares), add_word(x[c].w, d[c].w, squares));
      *reinterpret_cast<uint4*>(residual + i * kPerChunk) = x[c];
    }
  }
  // The weight's loads in flight during the reduction (into the delta's registers, now free).
  const auto* weight = static_cast<const uint16_t*>(a.weight);
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int i = threadIdx.x + c * chunk_threads;
    if (i < chunks) d[c] = __ldg(reinterpret_cast<const uint4*>(weight + i * kPerChunk));
  }

  __shared__ float warp_squares[kMaxThreads / 32];
  squares = cuda::warp_sum(squares);
  if (threadIdx.x % 32 == 0) warp_squares[threadIdx.x / 32] = squares;
  // Barrier 1 over the chunk threads only: the others have returned.
  asm volatile("bar.sync 1, %0;\n" ::"r"(chunk_threads) : "memory");
  float total = 0.f;
  for (int w = 0; w < chunk_threads / 32; ++w) total += warp_squares[w];
  const float rstd = rsqrtf(total / static_cast<float>(a.hidden) + a.eps);

  auto* out = static_cast<uint16_t*>(a.out) + row * a.out_stride;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int i = threadIdx.x + c * chunk_threads;
    if (i < chunks)
      *reinterpret_cast<uint4*>(out + i * kPerChunk) =
          make_uint4(norm_word(x[c].x, d[c].x, rstd), norm_word(x[c].y, d[c].y, rstd),
                     norm_word(x[c].z, d[c].z, rstd), norm_word(x[c].w, d[c].w, rstd));
  }
}

bool aligned(const void* p, int64_t stride) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && stride % kPerChunk == 0;
}

}  // namespace

bool add_rms_norm_supported(int hidden) {
  return hidden > 0 && hidden % kPerChunk == 0 && hidden / kPerChunk <= kMaxChunksPerThread * kMaxThreads;
}

cudaError_t launch_add_rms_norm(const AddRmsNormArgs& a, cudaStream_t stream) {
  const bool delta_ok = a.partials != nullptr ? aligned(a.partials, a.partial_stride) && a.partial_count >= 1
                                               : aligned(a.delta, a.delta_stride);
  if (!add_rms_norm_supported(a.hidden) || a.rows < 0 || a.rows > INT_MAX || !aligned(a.residual, a.residual_stride) ||
      !delta_ok || !aligned(a.weight, 0) || !aligned(a.out, a.out_stride))
    return cudaErrorInvalidValue;
  if (a.rows == 0) return cudaSuccess;
  // The fewest chunks per thread that fit in kMaxThreads threads: hidden 896 and 1024 run 128
  // threads of one chunk, 4096 256 threads of two, 7168 224 threads of four.
  const int chunks = a.hidden / kPerChunk;
  int per_thread = 1;
  while (per_thread * kMaxThreads < chunks) per_thread *= 2;
  const int threads = ((chunks + per_thread - 1) / per_thread + 31) / 32 * 32;
  // Summing partials takes a full block; the add and norm, the first `threads` of it.
  const bool partials = a.partials != nullptr;
  const int block = partials ? std::min(partial_block_limit(per_thread), (a.hidden + 31) / 32 * 32) : threads;
  const size_t shared = partials ? size_t(a.hidden) * 2 : 0;  // at most 32 KiB (hidden <= 16384)
  const auto rows = static_cast<unsigned>(a.rows);
  auto launch = [&](auto kernel) {
    return cuda::launch_dependent(kernel, dim3(rows), dim3(block), shared, stream, a, threads);
  };
  switch (per_thread) {
    case 1: return launch(add_rms_norm_kernel<1>);
    case 2: return launch(add_rms_norm_kernel<2>);
    case 4: return launch(add_rms_norm_kernel<4>);
    default: return launch(add_rms_norm_kernel<kMaxChunksPerThread>);
  }
}

}  // namespace grpo::model::kernels
