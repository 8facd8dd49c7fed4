// Mean and max |log p_rollout − log p_learner| across micro-batches; see logprob_mismatch.h.
#include "rl/algorithms/logprob_mismatch.h"

#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {

void LogprobMismatch::add(const torch::Tensor& learner_logprobs, const torch::Tensor& rollout_logprobs,
                          const torch::Tensor& mask) {
  require_rank(learner_logprobs, 2, "learner_logprobs");
  require_shape(rollout_logprobs, learner_logprobs.sizes(), "rollout_logprobs");
  require_shape(mask, learner_logprobs.sizes(), "mask");
  const auto abs_diff =
      zero_outside_mask(learner_logprobs.detach().to(torch::kFloat32) - rollout_logprobs.detach().to(torch::kFloat32),
                        mask)
          .abs();
  const auto sum = abs_diff.sum().to(torch::kFloat64);
  const auto tokens = (mask != 0).sum().to(torch::kFloat64);
  // |x| ≥ 0 and masked positions are 0, so the max over all positions is the max over the mask
  // (0 when the mask is empty).
  const auto max = abs_diff.numel() > 0 ? abs_diff.max() : torch::zeros({}, abs_diff.options());
  if (!abs_sum_.defined()) {
    abs_sum_ = sum, tokens_ = tokens, abs_max_ = max;
    return;
  }
  abs_sum_ = abs_sum_ + sum.to(abs_sum_.device());
  tokens_ = tokens_ + tokens.to(tokens_.device());
  abs_max_ = torch::maximum(abs_max_, max.to(abs_max_.device()));
}

Metrics LogprobMismatch::metrics() const {
  if (!abs_sum_.defined()) return {};
  return {{"mismatch/abs_logp_mean", abs_sum_ / tokens_.clamp_min(1.0)}, {"mismatch/abs_logp_max", abs_max_}};
}

}  // namespace grpo::rl
