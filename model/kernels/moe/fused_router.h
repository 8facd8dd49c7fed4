// The LibTorch side of the fused router kernel (router_kernel.h), for the all-experts decode
// path. Compiled in CUDA builds only; all_experts_forward dispatches here.
#pragma once

#include <torch/torch.h>

#include "model/arch/moe.h"

namespace grpo::model {

// True for bf16 CUDA x [N, hidden] with 16-byte aligned rows and a bf16 router weight, when the
// router is not group-limited and the kernel supports its sizes.
bool fused_router_applies(RouterImpl& router, const torch::Tensor& x);

// The router's function as the dense routing matrix [E, N] float32: entry (e, n) is token n's
// weight for expert e, zero where the router did not choose e.
torch::Tensor fused_router_combine(RouterImpl& router, const torch::Tensor& x);

}  // namespace grpo::model
