// RMSNorm of training as one CUDA kernel forward and one backward (rms_norm_kernel.h):
// PyTorch's fused rms_norm backward spends three kernels, the weight gradient's at a fraction of
// the memory bandwidth. Compiled in CUDA builds only; RMSNormImpl dispatches here when autograd
// records the norm (inference keeps compat::rms_norm).
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// x [..., hidden] contiguous bf16 on CUDA, 16-byte aligned, hidden a multiple of 8 and at most
// 8192; weight [hidden] contiguous bf16 on the same device.
bool fused_rms_norm_applies(const torch::Tensor& x, const torch::Tensor& weight);

// rms_norm(x, weight, eps) rounded once to bf16, differentiable in x and weight.
torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

}  // namespace grpo::model
