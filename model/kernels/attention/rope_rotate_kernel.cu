// RoPE forward and backward over a fused q/k/v projection and its split; see rope_rotate_kernel.h.
#include "model/kernels/attention/rope_rotate_kernel.h"

#include <algorithm>

#include "core/cuda/bfloat16.cuh"
#include "model/kernels/attention/rope.cuh"

namespace grpo::model::kernels {
namespace {

using cuda::pack8;
using cuda::unpack8;

constexpr int kThreads = 256;

// Element offset of (b, t, head, channel) in a part.
__device__ __forceinline__ int64_t part_offset(const RopePart& p, int64_t b, int64_t t, int head, int channel) {
  return b * p.batch_stride + t * p.token_stride + head * p.head_stride + channel;
}

// Each thread takes 8 channels of the first half of one head and their 8 partners in the second.
__global__ void __launch_bounds__(kThreads) rope_rotate_kernel(RopeRotateArgs a) {
  const int half = a.head_dim / 2, groups = half / 8;
  const int heads = a.parts[0].heads + a.parts[1].heads + a.parts[2].heads;
  const int rotated = a.parts[0].heads + a.parts[1].heads;
  const int64_t work = a.batch * a.seq * heads * groups;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < work;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int group = static_cast<int>(i % groups);
    const int64_t head_row = i / groups;  // token · heads + head
    const int head = static_cast<int>(head_row % heads);
    const int64_t token = head_row / heads, b = token / a.seq, t = token % a.seq;
    const int which = head < a.parts[0].heads ? 0 : head < rotated ? 1 : 2;
    const int local = head - (which == 0 ? 0 : which == 1 ? a.parts[0].heads : rotated);
    const RopePart& part = a.parts[which];
    uint4* combined = static_cast<uint4*>(a.combined) + (head_row * a.head_dim + group * 8) / 8;
    uint4* split = reinterpret_cast<uint4*>(static_cast<uint16_t*>(part.data) + part_offset(part, b, t, local, group * 8));
    uint4* in_lo = a.backward ? split : combined;
    uint4* out_lo = a.backward ? combined : split;
    const int hi = half / 8;  // the partner 8 channels, in 16-byte units
    if (which == 2) {  // v heads: the identity
      out_lo[0] = in_lo[0];
      out_lo[hi] = in_lo[hi];
      continue;
    }
    const int64_t t_lo = token * a.head_dim + group * 8, t_hi = t_lo + half;
    float x_lo[8], x_hi[8], c_lo[8], c_hi[8], s_lo[8], s_hi[8];
    unpack8(in_lo[0], x_lo);
    unpack8(in_lo[hi], x_hi);
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
    out_lo[0] = pack8(y_lo);
    out_lo[hi] = pack8(y_hi);
  }
}

}  // namespace

cudaError_t launch_rope_rotate(const RopeRotateArgs& a, cudaStream_t stream) {
  const int64_t heads = a.parts[0].heads + a.parts[1].heads + a.parts[2].heads;
  const int64_t work = a.batch * a.seq * heads * (a.head_dim / 16);
  if (work == 0) return cudaSuccess;
  const int64_t blocks = std::min<int64_t>((work + kThreads - 1) / kThreads, 1 << 16);
  rope_rotate_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace grpo::model::kernels
