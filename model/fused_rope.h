// RoPE on the q and k heads of a fused q/k/v projection as one CUDA kernel forward and one
// backward (rope_rotate_kernel.h), the same bits as apply_rope and its autograd backward. The
// tensor-op form runs a roll, two products and a sum forward and as many passes backward, each a
// full read and write of the projection. Compiled in CUDA builds only; GqaAttention dispatches
// here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// qkv [B, T, heads, D] contiguous bf16 on CUDA with D a multiple of 16; cos and signed_sin
// rope_cos_sin's [B, T, 1, D] tables in bf16 (full-width rotation), contiguous, on its device.
bool fused_rope_applies(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin);

// Rotates heads [0, rotated_heads) (half-rotation layout) and passes the rest through;
// differentiable in qkv.
torch::Tensor fused_rope(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                         int64_t rotated_heads);

}  // namespace grpo::model
