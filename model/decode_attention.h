// Decode attention on CUDA: one new token per row over the inference cache, read in place (see
// decode_attention_kernel.h). SDPA on the same inputs needs the cache's strided views copied
// contiguous in every layer and a mask, and its kernels tile for long query blocks; this reads
// each cached key and value once per step. Compiled in CUDA builds only; attend() dispatches here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// q: [B, H, 1, D]; keys, values: [B, Hkv, key_len, D]. True when all are bf16 on CUDA, D is 64 or
// 128, H/Hkv is at most 8, and the cache views have the unit dim stride and 16-byte alignment
// the kernel's vector loads need.
bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values);

// Row b attends keys [0, positions[b]] (positions: [B] or [B, 1] int64, on the device; values
// past key_len - 1 are clamped). Returns [B, H, 1, D] bf16.
torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values,
                               const torch::Tensor& positions, double scale);

}  // namespace grpo::model
