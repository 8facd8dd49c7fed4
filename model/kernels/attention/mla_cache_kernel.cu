// MLA RMSNorm + RoPE + latent cache write kernel; see mla_cache_kernel.h.
#include "model/kernels/attention/mla_cache_kernel.h"

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "core/cuda/warp_reduce.cuh"
#include "model/kernels/attention/rope.cuh"

namespace grpo::model::kernels {
namespace {

using cuda::bf16_to_float;
using cuda::float_to_bf16;

constexpr int kThreads = 256;

// Output j of the rotation of x (rope dims): x[self]·cos_j + x[partner]·ssin_j, rounded as
// apply_rope rounds (rope.cuh). Half layout: self j, partner j ± D/2. Interleaved: the pairs (2i, 2i+1)
// are first gathered into halves (x[0], x[2], ..., x[1], x[3], ...), as apply_rope does.
__device__ __forceinline__ uint16_t rotate(const uint16_t* x, const uint16_t* cos, const uint16_t* ssin, int j,
                                           int dims, bool interleaved) {
  const int half = dims / 2;
  int self, partner;
  if (interleaved) {
    self = j < half ? 2 * j : 2 * (j - half) + 1;
    partner = j < half ? 2 * j + 1 : 2 * (j - half);
  } else {
    self = j;
    partner = j < half ? j + half : j - half;
  }
  return float_to_bf16(
      rope_sum(bf16_to_float(x[self]), bf16_to_float(x[partner]), bf16_to_float(cos[j]), bf16_to_float(ssin[j])));
}

// Block per row.
__global__ void __launch_bounds__(kThreads) mla_rope_cache_write_kernel(MlaCacheArgs a) {
  cuda::start_after_prerequisite_grids();
  const int b = blockIdx.x;
  const auto* kv = static_cast<const uint16_t*>(a.kv) + b * a.kv_row_stride;
  const auto* cos = static_cast<const uint16_t*>(a.cos) + static_cast<int64_t>(b) * a.rope_dim;
  const auto* ssin = static_cast<const uint16_t*>(a.signed_sin) + static_cast<int64_t>(b) * a.rope_dim;

  // RMSNorm statistics of the latent in float32.
  __shared__ float warp_sums[kThreads / 32];
  float sum = 0.f;
  for (int i = threadIdx.x; i < a.latent_dim; i += kThreads) {
    const float x = bf16_to_float(kv[i]);
    sum = fmaf(x, x, sum);
  }
  sum = cuda::warp_sum(sum);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = sum;
  __syncthreads();
  float total = 0.f;
#pragma unroll
  for (int w = 0; w < kThreads / 32; ++w) total += warp_sums[w];
  const float rstd = rsqrtf(total / static_cast<float>(a.latent_dim) + a.eps);

  auto* entry = static_cast<uint16_t*>(a.store) + a.slots[b] * a.slot_stride +
                a.write_rows[b * a.write_rows_stride] * a.row_stride;
  const auto* weight = static_cast<const uint16_t*>(a.norm_weight);
  for (int i = threadIdx.x; i < a.latent_dim; i += kThreads)
    entry[i] = float_to_bf16(bf16_to_float(kv[i]) * rstd * bf16_to_float(weight[i]));
  for (int j = threadIdx.x; j < a.rope_dim; j += kThreads)
    entry[a.latent_dim + j] = rotate(kv + a.latent_dim, cos, ssin, j, a.rope_dim, a.interleaved);

  const int q_dims = a.nope_dim + a.rope_dim;
  const auto* q = static_cast<const uint16_t*>(a.q) + static_cast<int64_t>(b) * a.heads * q_dims;
  auto* q_out = static_cast<uint16_t*>(a.q_rope_out) + static_cast<int64_t>(b) * a.heads * a.rope_dim;
  for (int e = threadIdx.x; e < a.heads * a.rope_dim; e += kThreads) {
    const int h = e / a.rope_dim, j = e % a.rope_dim;
    q_out[e] = rotate(q + h * q_dims + a.nope_dim, cos, ssin, j, a.rope_dim, a.interleaved);
  }
}

}  // namespace

cudaError_t launch_mla_rope_cache_write(const MlaCacheArgs& a, cudaStream_t stream) {
  if (a.batch == 0) return cudaSuccess;
  if (a.rope_dim % 2 != 0 || a.latent_dim < 1) return cudaErrorInvalidValue;
  return cuda::launch_dependent(mla_rope_cache_write_kernel, dim3(a.batch), dim3(kThreads), 0, stream, a);
}

}  // namespace grpo::model::kernels
