// Sampling in one pass over the logits on CUDA, for the batches GRPO rollouts sample: plain
// temperature (and greedy rows), no top-k, top-p or min-p. It draws from the same distribution
// and returns the same log-probs as sample_next_tokens' general path (see sampler.h), which
// takes about seven passes over [B, V] float32 tensors; here each logit is read once, in its
// own dtype (fused_sampling_kernel.h). Compiled in CUDA builds only; sample_next_tokens
// dispatches here by itself.
#pragma once

#include "rollout/sampler.h"

namespace grpo::rollout {

// True for CUDA logits in float32 or bfloat16 and a batch without top-k, top-p or min-p.
bool fused_sampling_applies(const torch::Tensor& logits, const SamplingBatch& batch);

// logits: [B, V] on CUDA. The generator (CUDA) advances by one draw of two int64 per call.
SampledTokens fused_sample_next_tokens(const torch::Tensor& logits, const SamplingBatch& batch,
                                       at::Generator& generator);

}  // namespace grpo::rollout
