// RMSNorm forward and backward for training; see rms_norm_kernel.h.
#include "model/kernels/norm_activation/rms_norm_kernel.h"

#include <algorithm>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::model::kernels {
namespace {

using cuda::block_sum;
using cuda::pack8;
using cuda::unpack8;

// Each thread owns one run of 8 columns (16 bytes): hidden / 8 threads, rounded up to warps.
constexpr int kMaxThreads = kRmsNormMaxHidden / 8;
constexpr int kRowsPerBackwardBlock = 8;  // enough blocks to hide each row's load latency

// One block per row.
__global__ void __launch_bounds__(kMaxThreads) rms_norm_forward_kernel(RmsNormArgs a) {
  __shared__ float scratch[kMaxThreads / 32];
  const int64_t row = blockIdx.x;
  const int c = threadIdx.x;
  const bool owner = c < a.hidden / 8;
  float x[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  if (owner) unpack8(reinterpret_cast<const uint4*>(a.x + row * a.hidden)[c], x);
  float squares = 0.f;
#pragma unroll
  for (int i = 0; i < 8; ++i) squares = fmaf(x[i], x[i], squares);
  const float r = rsqrtf(block_sum(squares, scratch) / a.hidden + a.eps);
  if (threadIdx.x == 0) a.rstd[row] = r;
  if (!owner) return;
  float w[8], y[8];
  unpack8(reinterpret_cast<const uint4*>(a.weight)[c], w);
#pragma unroll
  for (int i = 0; i < 8; ++i) y[i] = x[i] * r * w[i];
  reinterpret_cast<uint4*>(a.out + row * a.hidden)[c] = pack8(y);
}

// Block b takes rows [b·R, b·R + R) and writes their dx and its partial dw.
__global__ void __launch_bounds__(kMaxThreads) rms_norm_backward_kernel(RmsNormArgs a) {
  __shared__ float scratch[kMaxThreads / 32];
  const int c = threadIdx.x;
  const bool owner = c < a.hidden / 8;
  float w[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, dw[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  if (owner) unpack8(reinterpret_cast<const uint4*>(a.weight)[c], w);
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kRowsPerBackwardBlock;
  const int64_t last = first + kRowsPerBackwardBlock < a.rows ? first + kRowsPerBackwardBlock : a.rows;
  for (int64_t row = first; row < last; ++row) {
    float x[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, g[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    if (owner) {
      unpack8(reinterpret_cast<const uint4*>(a.x + row * a.hidden)[c], x);
      unpack8(reinterpret_cast<const uint4*>(a.grad_out + row * a.hidden)[c], g);
    }
    const float r = a.rstd[row];
    float dot = 0.f;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      x[i] *= r;  // x̂
      dot = fmaf(x[i], w[i] * g[i], dot);
      dw[i] = fmaf(g[i], x[i], dw[i]);
    }
    const float mean = block_sum(dot, scratch) / a.hidden;
    if (!owner) continue;
    float dx[8];
#pragma unroll
    for (int i = 0; i < 8; ++i) dx[i] = r * (w[i] * g[i] - x[i] * mean);
    reinterpret_cast<uint4*>(a.grad_x + row * a.hidden)[c] = pack8(dx);
  }
  if (!owner) return;
  float4* partial = reinterpret_cast<float4*>(a.weight_partials + static_cast<int64_t>(blockIdx.x) * a.hidden + c * 8);
  partial[0] = make_float4(dw[0], dw[1], dw[2], dw[3]);
  partial[1] = make_float4(dw[4], dw[5], dw[6], dw[7]);
}

int threads_for(int hidden) { return (hidden / 8 + 31) / 32 * 32; }

}  // namespace

int rms_norm_backward_blocks(int64_t rows) {
  return static_cast<int>(std::max<int64_t>(1, (rows + kRowsPerBackwardBlock - 1) / kRowsPerBackwardBlock));
}

cudaError_t launch_rms_norm_forward(const RmsNormArgs& a, cudaStream_t stream) {
  if (a.rows == 0) return cudaSuccess;
  rms_norm_forward_kernel<<<static_cast<unsigned>(a.rows), threads_for(a.hidden), 0, stream>>>(a);
  return cudaGetLastError();
}

cudaError_t launch_rms_norm_backward(const RmsNormArgs& a, cudaStream_t stream) {
  const int blocks = rms_norm_backward_blocks(a.rows);
  rms_norm_backward_kernel<<<blocks, threads_for(a.hidden), 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace grpo::model::kernels
