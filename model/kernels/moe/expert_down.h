// The LibTorch side of the split-K expert down projection (expert_down_kernel.h), for the
// all-experts decode path. Compiled in CUDA builds only; moe_decode.cpp dispatches here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// True for bf16 CUDA tensors of the kernel's sizes: hidden [E, N, I] and weight [E, H, I]
// contiguous; shared_hidden [N, Is] with 16-byte aligned rows and shared_weight [H, Is]
// contiguous, or both undefined.
bool expert_down_applies(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& shared_hidden,
                         const torch::Tensor& shared_weight);

// Float32 partial sums [S, N, H] whose sum over S is Σ_e hidden[e] · weight[e]ᵀ (+ shared_hidden ·
// shared_weightᵀ).
torch::Tensor expert_down_partials(const torch::Tensor& hidden, const torch::Tensor& weight,
                                   const torch::Tensor& shared_hidden, const torch::Tensor& shared_weight);

}  // namespace grpo::model
