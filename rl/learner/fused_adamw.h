// The LibTorch side of the optimizer-step kernels (adamw_kernel.h): AdamW::step and the gradient
// norm dispatch here for CUDA float32 parameters. Compiled in CUDA builds only.
#pragma once

#include <torch/torch.h>

#include "rl/learner/optimizer.h"

namespace grpo::rl {

// param: a CUDA float32 tensor; grad: bf16 or float32 with as many elements on its device;
// rounded: undefined or bf16 with as many elements. All contiguous.
bool fused_adamw_applies(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& rounded);

// One AdamW update (optimizer.h's formula) of param and its moments from grad·grad_scale, in one
// pass; rounded (if defined) receives the updated param as bf16. step: 1-based, for the bias
// corrections.
void fused_adamw_step(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                      const torch::Tensor& exp_avg_sq, const torch::Tensor& rounded, const AdamWOptions& options,
                      double weight_decay, int64_t step, double grad_scale);

// x: a contiguous bf16 or float32 CUDA tensor.
bool sum_of_squares_applies(const torch::Tensor& x);
// Σ x² in float32 (0-dim, on x's device), without a float32 copy of x; the same for the same x.
torch::Tensor sum_of_squares(const torch::Tensor& x);

}  // namespace grpo::rl
