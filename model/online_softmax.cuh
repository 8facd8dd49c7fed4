// The online-softmax step the two tensor-core decode attention kernels (GQA and absorbed MLA)
// share: fold one staged tile of scores into each query row's running maximum and sum, in base 2,
// writing the tile's bf16 probabilities for P·V and each row's rescale factor for the output.
// Device code only, no LibTorch headers.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/cuda/bfloat16.cuh"
#include "core/cuda/warp_reduce.cuh"

namespace grpo::model::kernels {

// Rows [first_row, first_row + kRowsPerWarp) of the block's shared memory `sm` (scores[row][key],
// probs, row_max, row_sum, rescale), lane = key of the 32-key tile; keys with !valid weigh 0.
// Lane 0's key must be valid, so every maximum is finite (rows of zero scores get finite zeros).
template <int kRowsPerWarp, class Smem>
__device__ __forceinline__ void online_softmax_tile(Smem& sm, int first_row, bool valid, float score_scale, int lane) {
#pragma unroll
  for (int i = 0; i < kRowsPerWarp; ++i) {
    const int r = first_row + i;
    const float s = valid ? sm.scores[r][lane] * score_scale : -INFINITY;
    const float old_max = sm.row_max[r];
    const float new_max = fmaxf(old_max, cuda::warp_max(s));
    // The sum takes the rounded probabilities that P·V multiplies, so the weights sum to 1.
    const uint16_t p = cuda::float_to_bf16(valid ? exp2f(s - new_max) : 0.f);
    sm.probs[r][lane] = p;
    const float tile_sum = cuda::warp_sum(cuda::bf16_to_float(p));
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
