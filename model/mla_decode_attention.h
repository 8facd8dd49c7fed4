// The LibTorch side of the absorbed MLA decode kernel (mla_decode_kernel.h): one new token per
// row attends the latent cache in place, on tensor cores. It replaces, per layer and step, the
// query concatenation, the additive mask and a memory-efficient SDPA call, whose tiles are built
// for long query blocks rather than 16 heads over one shared entry. Compiled in CUDA builds only;
// MlaAttention::absorbed dispatches here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// q_latent: [B, H, 1, dc] (W_UK^T q_nope per head); q_rope: [B, H, 1, dr]; cache: the visible
// latent entries [B, key_len, dc + dr]. True when all are bf16 on one CUDA device with unit dim
// strides, (dc, dr) is (256, 32) or (512, 64), H a multiple of 16, and the cache rows 16-byte
// aligned for the kernel's vector loads.
bool mla_decode_applies(const torch::Tensor& q_latent, const torch::Tensor& q_rope, const torch::Tensor& cache);

// Row b attends entries [0, positions[b]] (positions: [B] or [B, 1] int64 on the device; values
// past key_len - 1 are clamped) with softmax(scale · q · entry), and returns sum_j p_j latent_j as
// [B, H, 1, dc] bf16: a transposed view of [H, B, 1, dc] storage, the layout the per-head W_UV
// matmul reads without a copy.
torch::Tensor mla_decode_attention(const torch::Tensor& q_latent, const torch::Tensor& q_rope,
                                   const torch::Tensor& cache, const torch::Tensor& positions, double scale);

}  // namespace grpo::model
