// RoPE forward and backward over a fused q/k/v projection; see rope_rotate_kernel.h.
#include "model/rope_rotate_kernel.h"

#include <algorithm>

#include "core/cuda/bfloat16.cuh"
#include "model/rope.cuh"

namespace grpo::model::kernels {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ void unpack8(const uint4 w, float (&v)[8]) {
  const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) v[2 * i] = cuda::low_bf16(words[i]), v[2 * i + 1] = cuda::high_bf16(words[i]);
}

__device__ __forceinline__ uint4 pack8(const float (&v)[8]) {
  return make_uint4(cuda::pack(cuda::float_to_bf16(v[0]), cuda::float_to_bf16(v[1])),
                    cuda::pack(cuda::float_to_bf16(v[2]), cuda::float_to_bf16(v[3])),
                    cuda::pack(cuda::float_to_bf16(v[4]), cuda::float_to_bf16(v[5])),
                    cuda::pack(cuda::float_to_bf16(v[6]), cuda::float_to_bf16(v[7])));
}

// Each thread takes 8 channels of the first half of one head and their 8 partners in the second.
__global__ void __launch_bounds__(kThreads) rope_rotate_kernel(RopeRotateArgs a) {
  const int half = a.head_dim / 2, groups = half / 8;
  const int64_t work = a.tokens * a.heads * groups;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < work;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int group = static_cast<int>(i % groups);
    const int64_t head_row = i / groups;  // token · heads + head
    const int head = static_cast<int>(head_row % a.heads);
    const int64_t token = head_row / a.heads;
    const int64_t lo = head_row * a.head_dim + group * 8, hi = lo + half;
    const uint4* in = static_cast<const uint4*>(a.in);
    uint4* out = static_cast<uint4*>(a.out);
    if (head >= a.rotated_heads) {  // v heads: the identity
      out[lo / 8] = in[lo / 8];
      out[hi / 8] = in[hi / 8];
      continue;
    }
    const int64_t t_lo = token * a.head_dim + group * 8, t_hi = t_lo + half;
    float x_lo[8], x_hi[8], c_lo[8], c_hi[8], s_lo[8], s_hi[8];
    unpack8(in[lo / 8], x_lo);
    unpack8(in[hi / 8], x_hi);
    unpack8(static_cast<const uint4*>(a.cos)[t_lo / 8], c_lo);
    unpack8(static_cast<const uint4*>(a.cos)[t_hi / 8], c_hi);
    unpack8(static_cast<const uint4*>(a.signed_sin)[t_lo / 8], s_lo);
    unpack8(static_cast<const uint4*>(a.signed_sin)[t_hi / 8], s_hi);
    float y_lo[8], y_hi[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) {
      // Forward: the partner's product uses this channel's sin; backward: the partner's sin.
      y_lo[k] = rope_sum(x_lo[k], x_hi[k], c_lo[k], a.backward ? s_hi[k] : s_lo[k]);
      y_hi[k] = rope_sum(x_hi[k], x_lo[k], c_hi[k], a.backward ? s_lo[k] : s_hi[k]);
    }
    out[lo / 8] = pack8(y_lo);
    out[hi / 8] = pack8(y_hi);
  }
}

}  // namespace

cudaError_t launch_rope_rotate(const RopeRotateArgs& a, cudaStream_t stream) {
  const int64_t work = a.tokens * a.heads * (a.head_dim / 16);
  if (work == 0) return cudaSuccess;
  const int64_t blocks = std::min<int64_t>((work + kThreads - 1) / kThreads, 1 << 16);
  rope_rotate_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace grpo::model::kernels
