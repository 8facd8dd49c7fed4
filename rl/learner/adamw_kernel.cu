// AdamW step and gradient sum of squares over flat buffers; see adamw_kernel.h.
#include "rl/learner/adamw_kernel.h"

#include <algorithm>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::rl::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 4;  // one 16-byte float4 of the parameter and moments
// Enough blocks to fill an H100/H200 several times over; each strides through the rest.
constexpr int kMaxBlocks = 4096;

template <bool kBf16>
__device__ __forceinline__ float load_grad(const void* g, int64_t i) {
  if constexpr (kBf16) return cuda::bf16_to_float(static_cast<const uint16_t*>(g)[i]);
  else return static_cast<const float*>(g)[i];
}

// Four consecutive gradient values from an aligned address.
template <bool kBf16>
__device__ __forceinline__ void load_grad4(const void* g, int64_t i, float (&out)[4]) {
  if constexpr (kBf16) {
    const uint2 w = *reinterpret_cast<const uint2*>(static_cast<const uint16_t*>(g) + i);
    out[0] = cuda::low_bf16(w.x), out[1] = cuda::high_bf16(w.x), out[2] = cuda::low_bf16(w.y), out[3] = cuda::high_bf16(w.y);
  } else {
    const float4 v = *reinterpret_cast<const float4*>(static_cast<const float*>(g) + i);
    out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
  }
}

__device__ __forceinline__ void adamw_element(const AdamWStepArgs& a, float g, float& p, float& m, float& v) {
  g *= a.grad_scale;
  p *= 1.f - a.lr * a.weight_decay;
  m = a.beta1 * m + (1.f - a.beta1) * g;
  v = a.beta2 * v + (1.f - a.beta2) * g * g;
  const float denom = sqrtf(v) / a.bias_correction2_sqrt + a.eps;
  p -= (a.lr / a.bias_correction1) * m / denom;
}

// kVec: every pointer is aligned for 4-element accesses (the flat buffers always are); the last
// partial group of 4 still goes element by element.
template <bool kBf16, bool kVec>
__global__ void __launch_bounds__(kThreads) adamw_kernel(AdamWStepArgs a) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads * kPerThread;
  for (int64_t i = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * kPerThread; i < a.n; i += stride) {
    if (kVec && i + kPerThread <= a.n) {
      float4 p = *reinterpret_cast<float4*>(a.param + i), m = *reinterpret_cast<float4*>(a.exp_avg + i),
             v = *reinterpret_cast<float4*>(a.exp_avg_sq + i);
      float g[4];
      load_grad4<kBf16>(a.grad, i, g);
      adamw_element(a, g[0], p.x, m.x, v.x);
      adamw_element(a, g[1], p.y, m.y, v.y);
      adamw_element(a, g[2], p.z, m.z, v.z);
      adamw_element(a, g[3], p.w, m.w, v.w);
      *reinterpret_cast<float4*>(a.param + i) = p;
      *reinterpret_cast<float4*>(a.exp_avg + i) = m;
      *reinterpret_cast<float4*>(a.exp_avg_sq + i) = v;
      if (a.rounded)
        *reinterpret_cast<uint2*>(a.rounded + i) =
            make_uint2(cuda::pack(cuda::float_to_bf16(p.x), cuda::float_to_bf16(p.y)),
                       cuda::pack(cuda::float_to_bf16(p.z), cuda::float_to_bf16(p.w)));
      continue;
    }
    for (int64_t j = i; j < i + kPerThread && j < a.n; ++j) {
      float p = a.param[j], m = a.exp_avg[j], v = a.exp_avg_sq[j];
      adamw_element(a, load_grad<kBf16>(a.grad, j), p, m, v);
      a.param[j] = p, a.exp_avg[j] = m, a.exp_avg_sq[j] = v;
      if (a.rounded) a.rounded[j] = cuda::float_to_bf16(p);
    }
  }
}

// The squares of the 16 bytes in w: eight bf16 or four float32 values.
template <bool kBf16>
__device__ __forceinline__ float squares16(const uint4 w, float sum) {
  const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    if constexpr (kBf16) {
      const float lo = cuda::low_bf16(words[k]), hi = cuda::high_bf16(words[k]);
      sum = fmaf(lo, lo, sum);
      sum = fmaf(hi, hi, sum);
    } else {
      const float f = __uint_as_float(words[k]);
      sum = fmaf(f, f, sum);
    }
  }
  return sum;
}

// kVec: x is 16-byte aligned and read 16 bytes at a time; the values after the last whole
// 16 bytes (and everything, without kVec) are read one by one.
template <bool kBf16, bool kVec>
__global__ void __launch_bounds__(kThreads) sum_of_squares_kernel(const void* x, int64_t n, float* partials) {
  constexpr int64_t kPer16 = kBf16 ? 8 : 4;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads, first = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t whole = kVec ? n / kPer16 : 0;
  float sum = 0.f;
  for (int64_t i = first; i < whole; i += stride) sum = squares16<kBf16>(static_cast<const uint4*>(x)[i], sum);
  for (int64_t i = whole * kPer16 + first; i < n; i += stride) {
    const float v = load_grad<kBf16>(x, i);
    sum = fmaf(v, v, sum);
  }
  __shared__ float warps[kThreads / 32];
  const float total = cuda::block_sum(sum, warps);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

int blocks_for(int64_t n, int64_t per_block) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(kMaxBlocks, (n + per_block - 1) / per_block)));
}

bool aligned(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

}  // namespace

cudaError_t launch_adamw_step(const AdamWStepArgs& a, cudaStream_t stream) {
  if (a.n == 0) return cudaSuccess;
  const int blocks = blocks_for(a.n, static_cast<int64_t>(kThreads) * kPerThread);
  const uintptr_t grad_bytes = a.grad_bf16 ? 8 : 16;
  const bool vec = aligned(a.param, 16) && aligned(a.exp_avg, 16) && aligned(a.exp_avg_sq, 16) &&
                   aligned(a.grad, grad_bytes) && (a.rounded == nullptr || aligned(a.rounded, 8));
  if (a.grad_bf16) {
    if (vec) adamw_kernel<true, true><<<blocks, kThreads, 0, stream>>>(a);
    else adamw_kernel<true, false><<<blocks, kThreads, 0, stream>>>(a);
  } else {
    if (vec) adamw_kernel<false, true><<<blocks, kThreads, 0, stream>>>(a);
    else adamw_kernel<false, false><<<blocks, kThreads, 0, stream>>>(a);
  }
  return cudaGetLastError();
}

int sum_of_squares_blocks(int64_t n) { return blocks_for(n, static_cast<int64_t>(kThreads) * 16); }

cudaError_t launch_sum_of_squares(const void* x, bool bf16, int64_t n, float* partials, cudaStream_t stream) {
  const int blocks = sum_of_squares_blocks(n);
  const bool vec = aligned(x, 16);
  if (bf16) {
    if (vec) sum_of_squares_kernel<true, true><<<blocks, kThreads, 0, stream>>>(x, n, partials);
    else sum_of_squares_kernel<true, false><<<blocks, kThreads, 0, stream>>>(x, n, partials);
  } else {
    if (vec) sum_of_squares_kernel<false, true><<<blocks, kThreads, 0, stream>>>(x, n, partials);
    else sum_of_squares_kernel<false, false><<<blocks, kThreads, 0, stream>>>(x, n, partials);
  }
  return cudaGetLastError();
}

}  // namespace grpo::rl::kernels
