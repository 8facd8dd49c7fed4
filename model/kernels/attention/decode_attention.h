// The attention of a decode step on CUDA, one new token per row: RoPE and the cache write of the
// new token in one kernel (rope_cache_kernel.h), and attention over the cache read in place
// (decode_attention_kernel.h). SDPA on the same inputs tiles for long query blocks and needs a
// mask; this reads each cached key and value once per step. Compiled in CUDA builds only;
// GqaAttention and attend() dispatch here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// q: [B, H, 1, D]; keys, values: [B, Hkv, key_len, D]. True when all are bf16 on CUDA, D is 64 or
// 128, H/Hkv is at most 16, and the queries and cache views have the unit dim stride and 16-byte
// alignment the kernel's vector loads need.
bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values);

// Row b attends keys [0, positions[b]] (positions: [B] or [B, 1] int64, on the device; values
// past key_len - 1 are clamped). Returns [B, H, 1, D] bf16.
torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values,
                               const torch::Tensor& positions, double scale);

// qkv: the fused projection [B, 1, H + 2·Hkv, D]; cos, signed_sin: rope_cos_sin's tables
// [B, 1, 1, D]; k_store, v_store: the layer's cache storage [slots, Hkv, rows, D]. True when all
// are bf16 on CUDA, qkv and the tables contiguous, D even and the rotation full-width.
bool rope_cache_write_applies(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& k_store,
                              const torch::Tensor& v_store);

// Rotates the q and k heads of qkv (apply_rope, half-rotation layout), writes k and v into row
// write_rows[b] of slot slots[b] of the stores, and returns the rotated queries [B, H, 1, D].
// slots: [B] int64; write_rows: [B] or [B, 1] int64; both on the device.
torch::Tensor rope_and_cache_write(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                                   const torch::Tensor& k_store, const torch::Tensor& v_store,
                                   const torch::Tensor& slots, const torch::Tensor& write_rows, int64_t heads);

}  // namespace grpo::model
