// RoPE + cache write kernel; see rope_cache_kernel.h.
#include "model/kernels/attention/rope_cache_kernel.h"

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/dependent_launch.cuh"
#include "model/kernels/attention/rope.cuh"

namespace grpo::model::kernels {
namespace {

constexpr int kThreads = 256;

using cuda::bf16_to_float;
using cuda::float_to_bf16;
using cuda::round_to_bf16;

// Thread (b, h, i), i < D/2, handles the pair (i, i + D/2) of head h of row b:
//   out_i = x_i·cos_i + x_{i+D/2}·ssin_i,  out_{i+D/2} = x_{i+D/2}·cos_{i+D/2} + x_i·ssin_{i+D/2}
// (ssin = sin with its first half negated), each product and the sum rounded to bf16.
__global__ void __launch_bounds__(kThreads) rope_cache_write_kernel(RopeCacheArgs a) {
  cuda::start_after_prerequisite_grids();
  const int half = a.head_dim / 2, all_heads = a.heads + 2 * a.kv_heads;
  const int64_t total = static_cast<int64_t>(a.batch) * all_heads * half;
  for (int64_t t = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int i = static_cast<int>(t % half);
    const int h = static_cast<int>((t / half) % all_heads);
    const int b = static_cast<int>(t / (static_cast<int64_t>(half) * all_heads));
    const auto* x = static_cast<const uint16_t*>(a.qkv) + (static_cast<int64_t>(b) * all_heads + h) * a.head_dim;
    float lo = bf16_to_float(x[i]), hi = bf16_to_float(x[i + half]);
    if (h < a.heads + a.kv_heads) {  // q and k heads rotate; v heads pass through
      const auto* c = static_cast<const uint16_t*>(a.cos) + static_cast<int64_t>(b) * a.head_dim;
      const auto* s = static_cast<const uint16_t*>(a.signed_sin) + static_cast<int64_t>(b) * a.head_dim;
      const float new_lo = round_to_bf16(rope_sum(lo, hi, bf16_to_float(c[i]), bf16_to_float(s[i])));
      const float new_hi = round_to_bf16(rope_sum(hi, lo, bf16_to_float(c[i + half]), bf16_to_float(s[i + half])));
      lo = new_lo, hi = new_hi;
    }
    uint16_t* dst;
    if (h < a.heads) {
      dst = static_cast<uint16_t*>(a.q_out) + (static_cast<int64_t>(b) * a.heads + h) * a.head_dim;
    } else {
      const bool is_key = h < a.heads + a.kv_heads;
      const int kv = is_key ? h - a.heads : h - a.heads - a.kv_heads;
      dst = static_cast<uint16_t*>(is_key ? a.k_store : a.v_store) + a.slots[b] * a.slot_stride +
            kv * a.head_stride + a.write_rows[b * a.write_rows_stride] * a.row_stride;
    }
    dst[i] = float_to_bf16(lo);
    dst[i + half] = float_to_bf16(hi);
  }
}

}  // namespace

cudaError_t launch_rope_cache_write(const RopeCacheArgs& a, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(a.batch) * (a.heads + 2 * a.kv_heads) * (a.head_dim / 2);
  if (total == 0) return cudaSuccess;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  return cuda::launch_dependent(rope_cache_write_kernel, dim3(static_cast<unsigned>(blocks < 65535 ? blocks : 65535)),
                                dim3(kThreads), 0, stream, a);
}

}  // namespace grpo::model::kernels
