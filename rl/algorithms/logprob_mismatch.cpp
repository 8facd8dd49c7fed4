// Mean and max |log p_rollout − log p_learner| across micro-batches; see logprob_mismatch.h.
#include "rl/algorithms/logprob_mismatch.h"

#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {

void LogprobMismatch::add(const torch::Tensor& learner_logprobs, const torch::Tensor& rollout_logprobs,
                          const torch::Tensor& mask) {
  require_rank(learner_logprobs, 2, "learner_logprobs");
  require_shape(rollout_logprobs, learner_logprobs.sizes(), "rollout_logprobs");
  require_shape(mask, learner_logprobs.sizes(), "mask");
  // r = 0 outside the mask, where both |r| and e^r − 1 − r vanish.
  const auto r =
      zero_outside_mask(learner_logprobs.detach().to(torch::kFloat32) - rollout_logprobs.detach().to(torch::kFloat32),
                        mask);
  const auto abs_diff = r.abs();
  const auto sum = abs_diff.sum().to(torch::kFloat64);
  // In float64: for the small r of a close match, e^r − 1 − r ≈ r²/2 would cancel to 0 in float32.
  const auto r64 = r.to(torch::kFloat64);
  const auto k3 = (torch::expm1(r64) - r64).sum();
  const auto tokens = (mask != 0).sum().to(torch::kFloat64);
  // |x| ≥ 0 and masked positions are 0, so the max over all positions is the max over the mask
  // (0 when the mask is empty).
  const auto max = abs_diff.numel() > 0 ? abs_diff.max() : torch::zeros({}, abs_diff.options());
  if (!abs_sum_.defined()) {
    abs_sum_ = sum, k3_sum_ = k3, tokens_ = tokens, abs_max_ = max;
    return;
  }
  abs_sum_ = abs_sum_ + sum.to(abs_sum_.device());
  k3_sum_ = k3_sum_ + k3.to(k3_sum_.device());
  tokens_ = tokens_ + tokens.to(tokens_.device());
  abs_max_ = torch::maximum(abs_max_, max.to(abs_max_.device()));
}

Metrics LogprobMismatch::metrics() const {
  if (!abs_sum_.defined()) return {};
  const auto tokens = tokens_.clamp_min(1.0);
  return {{"mismatch/abs_logp_mean", abs_sum_ / tokens},
          {"mismatch/abs_logp_max", abs_max_},
          {"mismatch/k3", k3_sum_ / tokens}};
}

}  // namespace grpo::rl
