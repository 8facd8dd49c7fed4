// The MoE combine of training (each token's K expert rows, weighted by the routing weights and
// summed) as one CUDA kernel forward and one backward (moe_combine_kernel.h). The tensor-op form
// gathers the rows, multiplies them into a float32 [N, K, H] product and sums it, and its
// backward runs as many passes again. Compiled in CUDA builds only; MoeFeedForward dispatches
// here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// rows [R, H] contiguous bf16 CUDA with H a multiple of 8; weights [N, K] float32;
// row_of_pair [N·K] and pair_of_row [R] int64 on the same device.
bool fused_moe_combine_applies(const torch::Tensor& rows, const torch::Tensor& weights,
                               const torch::Tensor& row_of_pair, const torch::Tensor& pair_of_row);

// out[t] = Σ_k weights[t, k] · rows[row_of_pair[t·K + k]] as [N, H] bf16, differentiable in rows
// and weights. pair_of_row[r] is the pair that reads row r, or N·K for a row none reads.
torch::Tensor fused_moe_combine(const torch::Tensor& rows, const torch::Tensor& weights,
                                const torch::Tensor& row_of_pair, const torch::Tensor& pair_of_row);

}  // namespace grpo::model
