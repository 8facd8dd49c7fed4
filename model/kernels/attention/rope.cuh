// RoPE arithmetic shared by the CUDA kernels that rotate a decode step's new token
// (rope_cache_kernel.cu, mla_cache_kernel.cu), rounded as apply_rope's bf16 tensor ops round.
#pragma once

#include "core/cuda/bfloat16.cuh"

namespace grpo::model::kernels {

// One rotated value before its final rounding: x·cos + partner·ssin, each product rounded to bf16
// as apply_rope's two products are (ssin: sin with its first half negated, rope_cos_sin's table).
// The caller rounds the sum once more, as apply_rope's sum.
__device__ __forceinline__ float rope_sum(float x, float partner, float cos, float ssin) {
  return cuda::round_to_bf16(x * cos) + cuda::round_to_bf16(partner * ssin);
}

}  // namespace grpo::model::kernels
