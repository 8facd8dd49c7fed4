// A MoE feed-forward for decode with static shapes and no host reads, in any dtype: every routed
// expert runs on every token as one batched matmul over the layer's stacked expert weights, and
// each token sums the experts' outputs weighted by its routing weights (zero for the experts it
// did not choose). The FLOPs grow by E / K, which decode, bound by reading the weights, affords
// at rollout batch sizes; the weights are read once either way. The module's own path
// (model/arch/moe.cpp) computes only what is routed, and is host-free too where a grouped GEMM exists
// (bf16 on CUDA); RolloutEngine picks between the two (EngineOptions::moe_decode).
#pragma once

#include <torch/torch.h>

#include "model/arch/moe.h"

namespace grpo::model {

// x: [N, hidden] -> [N, hidden], the module's function (router, routed and shared experts).
torch::Tensor all_experts_forward(MoeFeedForward& moe, const torch::Tensor& x);

// The same output as partial sums [S, N, hidden] to be added in order over S: float32 splits of
// the expert down projection's K on CUDA (expert_down.h: the routed experts, their sum and the
// shared experts in one pass over the weights), or S = 1 in x's dtype where that kernel does not
// apply. The decode step adds them to its residual stream in one kernel with the next norm. On
// CUDA the gate/up projections of the routed and shared experts, SwiGLU and the routing weights
// are one kernel as well (expert_gate_up.h).
torch::Tensor all_experts_partials(MoeFeedForward& moe, const torch::Tensor& x);

}  // namespace grpo::model
