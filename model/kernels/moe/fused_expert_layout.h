// The MoE training step's row layout (ExpertLayout, moe.h) as one CUDA kernel
// (expert_layout_kernel.h) instead of some thirty small tensor ops a layer. Compiled in CUDA
// builds only; MoeFeedForward dispatches here.
#pragma once

#include <torch/torch.h>

#include "model/arch/moe.h"

namespace grpo::model {

// experts: the routed expert of each pair, contiguous int64 on CUDA; at most 256 experts.
bool fused_expert_layout_applies(const torch::Tensor& experts, int64_t num_experts);

// The same layout as the tensor ops in moe.cpp compute, bit for bit.
ExpertLayout fused_expert_layout(const torch::Tensor& experts, int64_t num_experts, int64_t top_k, int64_t align);

}  // namespace grpo::model
