// Butterfly reductions over the 32 lanes of a warp, and a sum over a whole block built on them,
// for the project's CUDA kernels: every lane (thread) gets the result.
#pragma once

namespace grpo::cuda {

__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
  for (int m = 16; m > 0; m /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, m));
  return x;
}

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int m = 16; m > 0; m /= 2) x += __shfl_xor_sync(0xffffffffu, x, m);
  return x;
}

// The sum of v over the block (a whole number of warps), returned to every thread, adding the
// warps' sums in warp order. scratch: one float per warp, in shared memory; back-to-back calls may
// share it (the first barrier keeps a call from overwriting what the previous one still reads).
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  v = warp_sum(v);
  __syncthreads();
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w) total += scratch[w];
  return total;
}

}  // namespace grpo::cuda
