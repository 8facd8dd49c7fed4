// MoE combine forward and backward over bf16 rows; see moe_combine_kernel.h.
#include "model/kernels/moe/moe_combine_kernel.h"

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::model::kernels {
namespace {

using cuda::pack8;
using cuda::unpack8;

constexpr int kThreads = 128;  // each thread owns 8 columns (16 bytes) at a time

// One block per token.
__global__ void __launch_bounds__(kThreads) combine_forward_kernel(MoeCombineArgs a) {
  const int64_t t = blockIdx.x;
  const int chunks = a.hidden / 8;
  for (int c = threadIdx.x; c < chunks; c += kThreads) {
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    for (int k = 0; k < a.k; ++k) {
      const int64_t p = t * a.k + k;
      const float w = a.weights[p];
      float v[8];
      unpack8(reinterpret_cast<const uint4*>(a.rows + a.row_of_pair[p] * a.hidden)[c], v);
      // Product rounded, then added: the float32 tensor ops' result, whatever nvcc would contract.
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[i] = __fadd_rn(acc[i], __fmul_rn(w, v[i]));
    }
    reinterpret_cast<uint4*>(a.out + t * a.hidden)[c] = pack8(acc);
  }
}

// One block per expert row.
__global__ void __launch_bounds__(kThreads) combine_backward_kernel(MoeCombineArgs a) {
  const int64_t r = blockIdx.x, p = a.pair_of_row[r];
  const int chunks = a.hidden / 8;
  uint4* grad_row = reinterpret_cast<uint4*>(a.grad_rows + r * a.hidden);
  if (p >= a.tokens * a.k) {  // a padding row: no pair reads it
    for (int c = threadIdx.x; c < chunks; c += kThreads) grad_row[c] = make_uint4(0u, 0u, 0u, 0u);
    return;
  }
  const float w = a.weights[p];
  const uint4* g_row = reinterpret_cast<const uint4*>(a.grad_out + (p / a.k) * a.hidden);
  const uint4* y_row = reinterpret_cast<const uint4*>(a.rows + r * a.hidden);
  float dot = 0.f;
  for (int c = threadIdx.x; c < chunks; c += kThreads) {
    float g[8], y[8], out[8];
    unpack8(g_row[c], g);
    unpack8(y_row[c], y);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      dot = fmaf(g[i], y[i], dot);
      out[i] = w * g[i];
    }
    grad_row[c] = pack8(out);
  }
  __shared__ float warps[kThreads / 32];
  const float total = cuda::block_sum(dot, warps);
  if (threadIdx.x == 0) a.grad_weights[p] = total;
}

}  // namespace

cudaError_t launch_moe_combine_forward(const MoeCombineArgs& a, cudaStream_t stream) {
  if (a.tokens == 0) return cudaSuccess;
  combine_forward_kernel<<<static_cast<unsigned>(a.tokens), kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

cudaError_t launch_moe_combine_backward(const MoeCombineArgs& a, cudaStream_t stream) {
  if (a.row_count == 0) return cudaSuccess;
  combine_backward_kernel<<<static_cast<unsigned>(a.row_count), kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace grpo::model::kernels
