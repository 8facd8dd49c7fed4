// Rotary position embedding: inverse frequencies for the RoPE types transformers implements for
// these architectures (default, linear, llama3, yarn), cos/sin tables for explicit positions,
// and the rotation itself in both layouts: half rotation (Llama/Qwen, pairs (j, j+d/2)) and
// interleaved (DeepSeek checkpoints, pairs (2j, 2j+1), output de-interleaved as transformers'
// V3 code does — dot products between rotated q and k are the same either way). It does not
// implement dynamic NTK or LongRoPE.
#pragma once

#include <torch/torch.h>

#include <utility>

#include "model/arch/config.h"

namespace grpo::model {

struct RopeFrequencies {
  torch::Tensor inv_freq;         // [rope_dim / 2] float32
  double attention_factor = 1.0;  // multiplies cos and sin (YaRN)
};

RopeFrequencies rope_frequencies(const ModelConfig& config);

// positions: [B, T] int64 -> {cos, signed_sin}, each [B, T, 1, rope_dim] (broadcast over heads;
// the two halves repeat, as transformers' tables do, except that signed_sin's first half is
// negated: rotate_half's sign, folded into the table once per forward), computed in float32 and
// then cast to `dtype`: pass the model's compute dtype so that no layer converts them again.
std::pair<torch::Tensor, torch::Tensor> rope_cos_sin(const RopeFrequencies& freqs, const torch::Tensor& positions,
                                                     torch::Dtype dtype = torch::kFloat32);

// x: [B, T, heads, D] with D >= rope_dim (the projections' own layout, so that for full-width
// rotation every op runs on contiguous memory); rotates the first rope_dim channels as
// x·cos + rotate_half(x)·sin in x's dtype (transformers' formula and rounding) and passes the
// rest through. cos and signed_sin come from rope_cos_sin, in x's dtype.
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                         bool interleaved);

}  // namespace grpo::model
