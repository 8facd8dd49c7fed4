// Butterfly reductions over the 32 lanes of a warp, for the project's CUDA kernels: every lane
// gets the result.
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

}  // namespace grpo::cuda
