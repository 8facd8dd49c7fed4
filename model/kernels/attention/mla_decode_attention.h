// The LibTorch side of the MLA decode kernels: the new token's norm, RoPE and latent cache write
// in one kernel (mla_cache_kernel.h), and absorbed attention over the latent cache in place on
// tensor cores (mla_decode_kernel.h). Per layer and step they replace about a dozen small
// kernels, the query concatenation, the additive mask and a memory-efficient SDPA call whose
// tiles are built for long query blocks rather than 16 heads over one shared entry. Compiled in
// CUDA builds only; MlaAttention dispatches here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// q_latent: [B, H, 1, dc] (W_UK^T q_nope per head); q_rope: [B, H, 1, dr]; cache: the visible
// latent entries [B, key_len, dc + dr]. True when all are bf16 on one CUDA device with unit dim
// strides, (dc, dr) is (256, 32) or (512, 64), H a multiple of 16, and every row (of the queries
// per head, and of the cache) 16-byte aligned for the kernel's vector loads.
bool mla_decode_applies(const torch::Tensor& q_latent, const torch::Tensor& q_rope, const torch::Tensor& cache);

// Row b attends entries [0, positions[b]] (positions: [B] or [B, 1] int64 on the device; values
// past key_len - 1 are clamped) with softmax(scale · q · entry), and returns sum_j p_j latent_j as
// [B, H, 1, dc] bf16: a transposed view of [H, B, 1, dc] storage, the layout the per-head W_UV
// matmul reads without a copy.
torch::Tensor mla_decode_attention(const torch::Tensor& q_latent, const torch::Tensor& q_rope,
                                   const torch::Tensor& cache, const torch::Tensor& positions, double scale);

// q: the query projection [B, 1, H, nope + rope]; kv: kv_a_proj_with_mqa's output
// [B, 1, latent + rope]; norm_weight: kv_a_layernorm's [latent]; cos: rope_cos_sin's table
// [B, 1, 1, rope]; store: the layer's latent storage [slots, rows, latent + rope]. True when all
// are bf16 on one CUDA device, q, the weight and the table contiguous, and kv and store with unit
// dim strides.
bool mla_rope_cache_write_applies(const torch::Tensor& q, const torch::Tensor& kv, const torch::Tensor& norm_weight,
                                  const torch::Tensor& cos, const torch::Tensor& store);

// Writes [RMSNorm(latent; norm_weight, eps) | RoPE(rope key)] of row b into row write_rows[b] of
// slot slots[b] of store, and returns the roped query parts [B, H, 1, rope].
torch::Tensor mla_rope_and_cache_write(const torch::Tensor& q, const torch::Tensor& kv, const torch::Tensor& norm_weight,
                                       double eps, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                                       bool interleaved, const torch::Tensor& store, const torch::Tensor& slots,
                                       const torch::Tensor& write_rows);

}  // namespace grpo::model
