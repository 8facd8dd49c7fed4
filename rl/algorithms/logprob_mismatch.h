// The rollout/learner log-prob mismatch of a step, |log p_rollout − log p_learner| over
// completion tokens, accumulated across micro-batches: mismatch/abs_logp_mean (token-weighted
// over everything added), mismatch/abs_logp_max (a true max, which the learner's
// token-weighted averaging of per-micro-batch metrics would turn into a mean of maxima, so it is
// kept here instead) and mismatch/k3, the k3 estimate of KL(rollout ‖ learner) over the same
// tokens: the mean of e^r − 1 − r with r = log p_learner − log p_rollout (each term ≥ 0; the
// tokens were sampled by the rollout, so this is the estimator the KL penalty uses, kl.h). Values stay on the device until metrics(). Not here: which learner
// log-probs to compare (the learner picks pre-update ones), importance weights
// (rollout_correction.h).
#pragma once

#include <torch/torch.h>

#include "rl/algorithms/metrics.h"

namespace grpo::rl {

class LogprobMismatch {
 public:
  // learner_logprobs, rollout_logprobs: [N, T] float32; mask: [N, T], non-zero on the completion
  // tokens to compare. Positions outside the mask are ignored, whatever they hold.
  void add(const torch::Tensor& learner_logprobs, const torch::Tensor& rollout_logprobs, const torch::Tensor& mask);
  // mismatch/abs_logp_mean, mismatch/abs_logp_max and mismatch/k3 as 0-dim tensors; all 0 when
  // no token was added (an empty Metrics when add() was never called).
  Metrics metrics() const;

 private:
  torch::Tensor abs_sum_, k3_sum_, tokens_, abs_max_;  // 0-dim float64 / float64 / float64 / float32
};

}  // namespace grpo::rl
