// bfloat16 <-> float32 in device code, on raw 16-bit storage, for the project's CUDA kernels
// (which do not include the LibTorch headers). bfloat16 is the high half of a float32.
#pragma once

#include <cstdint>

namespace grpo::cuda {

__device__ __forceinline__ float bf16_to_float(uint16_t x) { return __uint_as_float(static_cast<uint32_t>(x) << 16); }
// The two bfloat16 packed in a 32-bit word: element 0 in the low half, element 1 in the high.
__device__ __forceinline__ float low_bf16(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float high_bf16(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }
__device__ __forceinline__ uint32_t pack(uint16_t low, uint16_t high) {
  return static_cast<uint32_t>(low) | (static_cast<uint32_t>(high) << 16);
}

// Round to nearest, ties to even, as PyTorch's float -> bfloat16 conversion does; NaN stays NaN.
__device__ __forceinline__ uint16_t float_to_bf16(float f) {
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// To the nearest bf16 and back to float: how each bf16 tensor op rounds its result.
__device__ __forceinline__ float round_to_bf16(float f) { return bf16_to_float(float_to_bf16(f)); }

// Eight bf16 values in 16 bytes (one uint4 access) and back, element 0 in the lowest bits.
__device__ __forceinline__ void unpack8(const uint4 w, float (&v)[8]) {
  const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) v[2 * i] = low_bf16(words[i]), v[2 * i + 1] = high_bf16(words[i]);
}

__device__ __forceinline__ uint4 pack8(const float (&v)[8]) {
  return make_uint4(pack(float_to_bf16(v[0]), float_to_bf16(v[1])), pack(float_to_bf16(v[2]), float_to_bf16(v[3])),
                    pack(float_to_bf16(v[4]), float_to_bf16(v[5])), pack(float_to_bf16(v[6]), float_to_bf16(v[7])));
}

}  // namespace grpo::cuda
