// RoPE on the q and k heads of a fused q/k/v projection, split into q, k and v, as one CUDA
// kernel forward and one backward (rope_rotate_kernel.h): the same bits as apply_rope, the split
// and their autograd backward. The tensor-op form runs a roll, two products and a sum forward and
// as many passes backward, plus the cat that joins the three gradients, each a full read and write
// of the projection. Compiled in CUDA builds only; GqaAttention dispatches here.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace grpo::model {

// qkv [B, T, heads, D] contiguous bf16 on CUDA with D a multiple of 16; cos and signed_sin
// rope_cos_sin's [B, T, 1, D] tables in bf16 (full-width rotation), contiguous, on its device.
bool fused_rope_applies(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin);

// {q, k, v}: heads [0, H), [H, H + Hkv) rotated (half-rotation layout) and [H + Hkv, heads)
// passed through, each [B, T, h, D] contiguous; differentiable in qkv.
std::vector<torch::Tensor> fused_rope_split(const torch::Tensor& qkv, const torch::Tensor& cos,
                                            const torch::Tensor& signed_sin, int64_t heads, int64_t kv_heads);

}  // namespace grpo::model
