// Attention over packed sequences: several sequences back to back in one row ([1, T] tokens),
// delimited by cu_seqlens, each attending causally to itself only. On CUDA in bf16/fp16
// (LibTorch 2.5+) FlashAttention's varlen kernel runs on [T, H, D] views, reading shared GQA kv
// heads in place; MLA's value heads, narrower than its query/key heads, are zero-padded to the
// query width for it and the output cut back. Elsewhere (CPU, float32) q, k and v are scattered
// into a padded [n, H, longest, D] layout for attend()'s masked path and the output gathered
// back: attention then costs what the padded batch's does (a block-diagonal [T, T] mask would
// cost n times more), performs the same reductions (so packed and padded agree to the bit on
// the CPU), and every other layer still runs on the packed tokens only. No cache, no window.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// q: [1, H, T, Dq]; k: [1, Hk, T, Dq]; v: [1, Hk, T, Dv] with H a multiple of Hk (query head h
// reads kv head h / (H / Hk)). cu_seqlens: [n + 1] int32 on q's device, 0 = c_0 < ... < c_n = T
// (no empty sequence); max_seqlen: the longest sequence. Returns [1, H, T, Dv]; differentiable.
torch::Tensor packed_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& cu_seqlens, int64_t max_seqlen, double scale);

}  // namespace grpo::model
