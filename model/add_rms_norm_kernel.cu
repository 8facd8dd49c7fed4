// Residual add + RMSNorm kernel; see add_rms_norm_kernel.h.
#include "model/add_rms_norm_kernel.h"

#include <climits>

#include "core/cuda/bfloat16.cuh"
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

// Block per row; thread t owns chunks t, t + blockDim.x, ... (coalesced), at most kChunks of them.
// The new residual stays in registers as the packed bf16 it is stored as (4 registers a chunk),
// so the norm reads nothing back. A thread issues all its loads before its first store: they are
// in flight together, where the compiler could not move a delta load above an earlier store to
// residual (it cannot prove the two apart).
template <int kChunks>
__global__ void __launch_bounds__(kMaxThreads) add_rms_norm_kernel(AddRmsNormArgs a) {
  const int64_t row = blockIdx.x;
  auto* residual = static_cast<uint16_t*>(a.residual) + row * a.residual_stride;
  const auto* delta = static_cast<const uint16_t*>(a.delta) + row * a.delta_stride;
  const int chunks = a.hidden / kPerChunk;

  uint4 x[kChunks], d[kChunks];
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int i = threadIdx.x + c * blockDim.x;
    if (i < chunks) {
      x[c] = *reinterpret_cast<const uint4*>(residual + i * kPerChunk);
      if (a.partials == nullptr) d[c] = __ldg(reinterpret_cast<const uint4*>(delta + i * kPerChunk));
    }
  }
  if (a.partials != nullptr) {  // delta = the bf16 rounding of the float32 sum of the splits, in split order
    const float* rows = a.partials + row * a.hidden;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int i = threadIdx.x + c * blockDim.x;
      if (i < chunks) {
        float sum[kPerChunk] = {};
        for (int s = 0; s < a.partial_count; ++s) {
          const auto* p = reinterpret_cast<const float4*>(rows + s * a.partial_stride + i * kPerChunk);
          const float4 lo = __ldg(p), hi = __ldg(p + 1);
          sum[0] += lo.x, sum[1] += lo.y, sum[2] += lo.z, sum[3] += lo.w;
          sum[4] += hi.x, sum[5] += hi.y, sum[6] += hi.z, sum[7] += hi.w;
        }
        uint32_t w[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) w[k] = pack(float_to_bf16(sum[2 * k]), float_to_bf16(sum[2 * k + 1]));
        d[c] = make_uint4(w[0], w[1], w[2], w[3]);
      }
    }
  }
  float squares = 0.f;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int i = threadIdx.x + c * blockDim.x;
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
    const int i = threadIdx.x + c * blockDim.x;
    if (i < chunks) d[c] = __ldg(reinterpret_cast<const uint4*>(weight + i * kPerChunk));
  }

  __shared__ float warp_squares[kMaxThreads / 32];
  squares = cuda::warp_sum(squares);
  if (threadIdx.x % 32 == 0) warp_squares[threadIdx.x / 32] = squares;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) total += warp_squares[w];
  const float rstd = rsqrtf(total / static_cast<float>(a.hidden) + a.eps);

  auto* out = static_cast<uint16_t*>(a.out) + row * a.out_stride;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int i = threadIdx.x + c * blockDim.x;
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
  const auto rows = static_cast<unsigned>(a.rows);
  switch (per_thread) {
    case 1: add_rms_norm_kernel<1><<<rows, threads, 0, stream>>>(a); break;
    case 2: add_rms_norm_kernel<2><<<rows, threads, 0, stream>>>(a); break;
    case 4: add_rms_norm_kernel<4><<<rows, threads, 0, stream>>>(a); break;
    default: add_rms_norm_kernel<kMaxChunksPerThread><<<rows, threads, 0, stream>>>(a); break;
  }
  return cudaGetLastError();
}

}  // namespace grpo::model::kernels
