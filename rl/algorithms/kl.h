// Per-token estimators of KL(π_θ || π_ref) from the log-probs of the sampled tokens (Schulman,
// "Approximating KL divergence"), and the two places a trainer puts them. With
// d = ref - logp (the log of π_ref/π_θ at the sampled token):
//   k1  -d                                   unbiased, high variance, can be negative
//   k2  ½·d²                                 biased, low variance, its gradient is the KL's
//   k3  exp(d) - d - 1, d clamped to ±20 and the result to [-10, 10] as verl does     (GRPO)
// In the loss: actor_loss.h adds β·aggregate(k) (DeepSeekMath, TRL, verl use_kl_loss).
// In the reward: subtract_kl_from_rewards() removes β·Σ_t k_t from each completion's reward
// before advantages (verl use_kl_in_reward with the score on the last token, OpenRLHF).
// Not here: adaptive KL controllers, the exact full-vocabulary KL.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "core/registry.h"
#include "rl/algorithms/metrics.h"

namespace grpo::rl {

// logprobs, ref_logprobs: [N, T] float32 (logprobs may require grad). Returns [N, T] float32.
using KlEstimatorFn =
    std::function<torch::Tensor(const torch::Tensor& logprobs, const torch::Tensor& ref_logprobs)>;

// The table of estimators ("k1", "k2", "k3"); built-ins are present on first use.
Registry<KlEstimatorFn>& kl_estimators();

// Looks `name` up and applies it after checking that both inputs have the same [N, T] shape.
torch::Tensor kl_estimate(const std::string& name, const torch::Tensor& logprobs,
                          const torch::Tensor& ref_logprobs);

struct KlRewardResult {
  torch::Tensor rewards;  // [N] float32: rewards - beta · Σ_t kl·mask
  Metrics metrics;        // kl/in_reward_mean (mean over completions of Σ_t kl·mask), kl/token_mean
};

// rewards: [N] float; kl: [N, T] float32 per-token estimate (detached here); mask: [N, T].
KlRewardResult subtract_kl_from_rewards(const torch::Tensor& rewards, const torch::Tensor& kl,
                                        const torch::Tensor& mask, double beta);

}  // namespace grpo::rl
