// The steps the two tensor-core decode attention kernels (GQA and absorbed MLA) share: score a
// staged key tile against the block's 16 query rows, and fold the scores into each row's
// running maximum and sum (online softmax, base 2), writing the tile's bf16 probabilities for P·V
// and each row's rescale factor for the output. Device code only, no LibTorch headers.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/mma.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::model::kernels {

// scores[row][key] = Σ_d q[row][d] · keys[key][d] over the first kDims dims, for the 16 rows and
// keys 8w .. 8w + 7 (warp w) on tensor cores: A = q, B[d][key] = keys[key][d]. kUnroll: how far
// the dim loop unrolls (the MLA kernel's 576 dims keep registers in check at 6).
template <int kDims, int kUnroll, int kPitch, int kTile>
__device__ __forceinline__ void score_tile(const uint16_t (*q)[kPitch], const uint16_t (*keys)[kPitch],
                                           float (*scores)[kTile], int warp, int g, int t) {
  float c[4] = {0.f, 0.f, 0.f, 0.f};
  const int key = warp * 8 + g;
  uint32_t q_frag[4];
#pragma unroll kUnroll
  for (int k0 = 0; k0 < kDims; k0 += 16) {
    cuda::load_a<kPitch>(q_frag, q, g, t, k0);
    cuda::mma_16816(c, q_frag, cuda::pair(&keys[key][k0 + 2 * t]), cuda::pair(&keys[key][k0 + 8 + 2 * t]));
  }
  scores[g][warp * 8 + 2 * t] = c[0];
  scores[g][warp * 8 + 2 * t + 1] = c[1];
  scores[g + 8][warp * 8 + 2 * t] = c[2];
  scores[g + 8][warp * 8 + 2 * t + 1] = c[3];
}

// Rows [first_row, first_row + kRowsPerWarp) of the block's shared memory `sm` (scores[row][key],
// probs, row_max, row_sum, rescale) over a tile of 32 · kKeysPerLane keys, lane holding keys
// lane, lane + 32, ...; keys from valid_keys on weigh 0. valid_keys >= 1, so every maximum is
// finite (rows of zero scores get finite zeros).
template <int kRowsPerWarp, int kKeysPerLane = 1, class Smem>
__device__ __forceinline__ void online_softmax_tile(Smem& sm, int first_row, int valid_keys, float score_scale,
                                                    int lane) {
#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) {
    const int r = first_row + i;
    float s[kKeysPerLane];
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < kKeysPerLane; ++j) {
      const int key = lane + 32 * j;
      s[j] = key < valid_keys ? sm.scores[r][key] * score_scale : -INFINITY;
      tile_max = fmaxf(tile_max, s[j]);
    }
    const float old_max = sm.row_max[r];
    const float new_max = fmaxf(old_max, cuda::warp_max(tile_max));
    // The sum takes the rounded probabilities that P·V multiplies, so the weights sum to 1.
    float lane_sum = 0.f;
#pragma unroll
    for (int j = 0; j < kKeysPerLane; ++j) {
      const int key = lane + 32 * j;
      const uint16_t p = cuda::float_to_bf16(key < valid_keys ? exp2f(s[j] - new_max) : 0.f);
      sm.probs[r][key] = p;
      lane_sum += cuda::bf16_to_float(p);
    }
    const float tile_sum = cuda::warp_sum(lane_sum);
    __syncwarp();  // every lane has read row_max[r]
    if (lane == 0) {
      const float scale = exp2f(old_max - new_max);  // 0 on the first tile
      sm.rescale[r] = scale;
      sm.row_max[r] = new_max;
      sm.row_sum[r] = sm.row_sum[r] * scale + tile_sum;
    }
  }
}

}  // namespace grpo::model::kernels
