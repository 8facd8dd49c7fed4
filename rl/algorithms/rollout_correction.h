// Rollout-vs-learner mismatch: the rollout engine samples with its own kernels (bf16, fused
// sampling), so its log-prob of a token differs from the learner's for the same weights. Truncated
// importance sampling reweights each token's loss by w = π_learner/π_rollout, computed from the
// learner's log-probs before the update (old_logprobs) and the rollout's (TRL
// vllm_importance_sampling_*, verl rollout_is). Registered by name, as TRL spells them:
//   token_truncate     w_t = clamp(exp(old_t - rollout_t), clip_min, clip_max)
//   token_mask         w_t = exp(old_t - rollout_t), set to 0 outside [clip_min, clip_max]
//   sequence_truncate  w_i = clamp(exp(Σ_t (old_t - rollout_t)), ...), the same for every token
//   sequence_mask      w_i = exp(Σ_t ...), 0 outside the range                  (TRL's default)
// Log-ratios are clamped to ±20 before exp so that a diverged sequence gives a large finite
// weight that the bounds then handle. Weights are detached: they scale the loss, not its
// gradient path. Metrics: mismatch/k1 (mean of rollout - old: KL(rollout || learner)),
// mismatch/k3, mismatch/is_ratio_{mean,min,max} (before bounds), mismatch/clipped_frac (tokens
// whose weight the bounds changed). Not here: rejection of whole batches, off-policy masks.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "core/registry.h"
#include "rl/algorithms/metrics.h"

namespace grpo::rl {

struct RolloutCorrectionOptions {
  double clip_min = 0.0;  // lower bound; 0 = none (TRL's default)
  double clip_max = 3.0;  // upper bound C (TRL 3.0, verl 2.0)
};

struct RolloutCorrectionResult {
  torch::Tensor weights;  // [N, T] float32, detached; multiply the per-token loss by it
  Metrics metrics;
};

// old_logprobs: [N, T] float32, learner log-probs before the update; rollout_logprobs: [N, T]
// float32 from the sampler; mask: [N, T].
using RolloutCorrectionFn = std::function<RolloutCorrectionResult(
    const torch::Tensor& old_logprobs, const torch::Tensor& rollout_logprobs, const torch::Tensor& mask,
    const RolloutCorrectionOptions&)>;

// The table of corrections; built-ins are present on first use.
Registry<RolloutCorrectionFn>& rollout_corrections();

RolloutCorrectionResult rollout_correction(const std::string& name, const torch::Tensor& old_logprobs,
                                           const torch::Tensor& rollout_logprobs, const torch::Tensor& mask,
                                           const RolloutCorrectionOptions& options);

}  // namespace grpo::rl
