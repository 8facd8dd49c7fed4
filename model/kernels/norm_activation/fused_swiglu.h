// SwiGLU of a fused gate_up projection as one CUDA kernel forward and one backward
// (swiglu_kernel.h). The unfused form, silu(gate) · up on the two halves, reads strided halves
// through PyTorch's slow strided elementwise path twice forward and more backward, and its
// backward builds the [.., 2I] gradient with a cat. Compiled in CUDA builds only;
// swiglu_activation (layers.h) dispatches here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// True for a contiguous float32 or bf16 CUDA tensor with an even last dim.
bool fused_swiglu_applies(const torch::Tensor& gate_up);

// gate_up [..., 2I] -> silu(gate_up[..., :I]) · gate_up[..., I:], differentiable.
torch::Tensor fused_swiglu(const torch::Tensor& gate_up);

// The same times row_scale[r] on each row r of the output (row_scale: contiguous float32 with one
// value per row, on the same device), rounded once; inference only (no autograd). The all-experts
// MoE decode weights each expert's activations by the routing weights this way.
torch::Tensor fused_swiglu_scaled(const torch::Tensor& gate_up, const torch::Tensor& row_scale);

}  // namespace grpo::model
