// The LibTorch side of the fused gate/up kernel (expert_gate_up_kernel.h), for the all-experts
// decode path. Compiled in CUDA builds only; moe_decode.cpp dispatches here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// The SwiGLU activations of every routed expert, weighted by the routing matrix, and of the
// shared experts (undefined when there are none).
struct ExpertActivations {
  torch::Tensor hidden;         // [E, N, I] bf16
  torch::Tensor shared_hidden;  // [N, Is] bf16
};

// True for bf16 CUDA tensors of the kernel's sizes: x [N, H] with 16-byte aligned rows, weight
// [E, 2I, H] contiguous, combine [E, N] float32 contiguous, and shared_weight [2Is, H] contiguous
// or undefined.
bool expert_gate_up_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& combine,
                            const torch::Tensor& shared_weight);

ExpertActivations expert_gate_up(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& combine,
                                 const torch::Tensor& shared_weight);

}  // namespace grpo::model
