// Token log-prob and entropy kernels over bf16 logits; see logprob_kernel.h.
#include "rl/learner/logprob_kernel.h"

#include <cmath>

#include "core/cuda/bfloat16.cuh"

namespace grpo::rl::kernels {
namespace {

using cuda::bf16_to_float;
using cuda::float_to_bf16;
using cuda::high_bf16;
using cuda::low_bf16;

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// The online state of a set of base-2 scaled logits t = s·log2 e: their max, Z = Σ 2^(t - max)
// and A = Σ 2^(t - max)·(t - max). Empty: max -inf, Z = A = 0.
struct RowState {
  float max = -INFINITY;
  float z = 0.f;
  float a = 0.f;
};

// The state of `s` re-expressed against a larger maximum: each weight scales by r = 2^(max -
// new_max) and each (t - max) grows by (max - new_max).
__device__ __forceinline__ void rebase(RowState& s, float new_max) {
  if (s.z > 0.f) {
    const float shift = s.max - new_max, r = exp2f(shift);
    s.a = r * (s.a + shift * s.z);
    s.z *= r;
  }
  s.max = new_max;
}

__device__ __forceinline__ RowState merge(RowState x, const RowState& y) {
  const float m = fmaxf(x.max, y.max);
  if (m == -INFINITY) return x;
  RowState other = y;
  rebase(x, m);
  rebase(other, m);
  x.z += other.z;
  x.a += other.a;
  return x;
}

// Adds n values (base-2 scaled) with one rebase for all of them.
template <int N>
__device__ __forceinline__ void add_values(RowState& s, const float (&t)[N]) {
  float local = t[0];
#pragma unroll
  for (int i = 1; i < N; ++i) local = fmaxf(local, t[i]);
  if (local > s.max) rebase(s, local);
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const float d = t[i] - s.max, w = exp2f(d);
    s.z += w;
    s.a = fmaf(w, d, s.a);
  }
}

__device__ RowState block_merge(RowState s) {
  __shared__ RowState warps[kWarps];
#pragma unroll
  for (int m = 16; m > 0; m /= 2) {
    RowState other;
    other.max = __shfl_xor_sync(0xffffffffu, s.max, m);
    other.z = __shfl_xor_sync(0xffffffffu, s.z, m);
    other.a = __shfl_xor_sync(0xffffffffu, s.a, m);
    s = merge(s, other);
  }
  if (threadIdx.x % 32 == 0) warps[threadIdx.x / 32] = s;
  __syncthreads();
  RowState all = warps[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) all = merge(all, warps[w]);
  return all;
}

// The eight bf16 of a 16-byte word.
__device__ __forceinline__ void unpack8(const uint4& w, float (&f)[8]) {
  f[0] = low_bf16(w.x), f[1] = high_bf16(w.x), f[2] = low_bf16(w.y), f[3] = high_bf16(w.y);
  f[4] = low_bf16(w.z), f[5] = high_bf16(w.z), f[6] = low_bf16(w.w), f[7] = high_bf16(w.w);
}

// Block per row. kVector: the vocabulary is a multiple of 8, so rows are 16-byte aligned.
template <bool kVector>
__global__ void __launch_bounds__(kThreads) logprob_rows_forward_kernel(LogProbRowsArgs a) {
  const int row = blockIdx.x;
  const auto* z = static_cast<const uint16_t*>(a.logits) + static_cast<int64_t>(row) * a.vocab;
  const float scale = a.inv_temperature * kLog2e;  // z -> t = s·log2 e
  RowState state;
  if constexpr (kVector) {
    const auto* vec = reinterpret_cast<const uint4*>(z);
    for (int i = threadIdx.x; i < a.vocab / 8; i += kThreads) {
      float t[8];
      unpack8(vec[i], t);
#pragma unroll
      for (int e = 0; e < 8; ++e) t[e] *= scale;
      add_values(state, t);
    }
  } else {
    for (int i = threadIdx.x; i < a.vocab; i += kThreads) {
      const float t[1] = {bf16_to_float(z[i]) * scale};
      add_values(state, t);
    }
  }
  const RowState all = block_merge(state);
  if (threadIdx.x != 0) return;
  const float log_z = __log2f(all.z) * kLn2;  // Z >= 1: the max term is 2^0
  const float m = all.max * kLn2;              // max s
  const float s_y = bf16_to_float(z[a.tokens[row]]) * a.inv_temperature;
  a.row_max[row] = m;
  a.log_sum[row] = log_z;
  a.logprobs[row] = (s_y - m) - log_z;
  a.entropy[row] = log_z - all.a / all.z * kLn2;
}

// ∂L/∂z for one logit; `row` holds the row's constants.
struct RowGrad {
  float inv_t, shift;  // log p = z·inv_t - shift, shift = m + log Z
  float g_lp, g_h, entropy;
  __device__ __forceinline__ float operator()(float z, bool target) const {
    const float log_p = fmaf(z, inv_t, -shift);
    const float p = exp2f(log_p * kLog2e);
    const float g = p * (-g_lp - g_h * (log_p + entropy)) + (target ? g_lp : 0.f);
    return g * inv_t;
  }
};

template <bool kVector>
__global__ void __launch_bounds__(kThreads) logprob_rows_backward_kernel(LogProbRowsArgs a) {
  const int row = blockIdx.x;
  auto* z = static_cast<uint16_t*>(a.logits) + static_cast<int64_t>(row) * a.vocab;
  const int64_t target = a.tokens[row];
  const RowGrad grad{a.inv_temperature, a.row_max[row] + a.log_sum[row],
                     a.grad_logprobs ? a.grad_logprobs[row] : 0.f, a.grad_entropy ? a.grad_entropy[row] : 0.f,
                     a.entropy[row]};
  if constexpr (kVector) {
    auto* vec = reinterpret_cast<uint4*>(z);
    for (int i = threadIdx.x; i < a.vocab / 8; i += kThreads) {
      float v[8];
      unpack8(vec[i], v);
      uint16_t g[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) g[e] = float_to_bf16(grad(v[e], 8 * i + e == target));
      vec[i] = make_uint4(g[0] | (uint32_t(g[1]) << 16), g[2] | (uint32_t(g[3]) << 16), g[4] | (uint32_t(g[5]) << 16),
                          g[6] | (uint32_t(g[7]) << 16));
    }
  } else {
    for (int i = threadIdx.x; i < a.vocab; i += kThreads) z[i] = float_to_bf16(grad(bf16_to_float(z[i]), i == target));
  }
}

// Block per row; the vector kernel where the vocabulary is a multiple of 8 and rows 16-byte aligned.
cudaError_t launch_rows(const LogProbRowsArgs& a, cudaStream_t stream, void (*vector_kernel)(LogProbRowsArgs),
                        void (*scalar_kernel)(LogProbRowsArgs)) {
  if (a.rows == 0) return cudaSuccess;
  if (a.vocab < 1) return cudaErrorInvalidValue;
  const bool vector = a.vocab % 8 == 0 && reinterpret_cast<uintptr_t>(a.logits) % 16 == 0;
  (vector ? vector_kernel : scalar_kernel)<<<a.rows, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_logprob_rows_forward(const LogProbRowsArgs& a, cudaStream_t stream) {
  return launch_rows(a, stream, logprob_rows_forward_kernel<true>, logprob_rows_forward_kernel<false>);
}

cudaError_t launch_logprob_rows_backward(const LogProbRowsArgs& a, cudaStream_t stream) {
  return launch_rows(a, stream, logprob_rows_backward_kernel<true>, logprob_rows_backward_kernel<false>);
}

}  // namespace grpo::rl::kernels
