// Clipped policy-gradient losses, per token, before aggregation (aggregation.h turns the [N, T]
// matrix into a scalar). Registered by name:
//   ppo_clip  token-level ratio r_t = exp(logp_t - old_t)                        (PPO, GRPO, DAPO)
//   gspo      sequence-level ratio r_i = exp(mean_t(logp_t - old_t)), shared by the sequence's
//             tokens; gradients flow through the mean, which equals verl's sg-combined ratio
//             in value and in gradient under every aggregation in aggregation.h (each weighs
//             a sequence's tokens equally)                                              (GSPO)
// Both compute l = max(-A·r, -A·clip(r, 1-eps_low, 1+eps_high)) with the log-ratio clamped to
// ±log_ratio_clamp before exp (verl), and, when dual_clip_c > 1, l = min(l, -A·c) for A < 0
// (dual-clip PPO). Metrics, as masked token means:
//   actor/clip_frac_low   r < 1-eps_low and A < 0 (the lower clip bound is active)
//   actor/clip_frac_high  r > 1+eps_high and A > 0 (the upper clip bound is active)
//   actor/clip_frac_dual  A < 0 and r > c (the dual-clip bound is active; 0 when off)
//   actor/ppo_kl          mean(old - logp), the k1 estimate of KL(old || new)
// Not here: CISPO/SAPO-style reweightings, TRL's two-sided `delta` clip, rollout importance
// weights (rollout_correction.h) and the KL/entropy terms (actor_loss.h).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "core/registry.h"
#include "rl/algorithms/metrics.h"

namespace grpo::rl {

struct PolicyLossOptions {
  double epsilon_low = 0.2;
  double epsilon_high = 0.2;      // clip-higher: DAPO uses 0.28
  double dual_clip_c = 0.0;       // 0 = off; otherwise > 1 (verl's clip_ratio_c 3.0, DAPO recipe 10)
  double log_ratio_clamp = 20.0;  // |logp - old| cap before exp
};

// Padding positions may hold any finite value (the learner's log-probs put 0 there).
struct PolicyLossInput {
  torch::Tensor logprobs;      // [N, T] float32, requires grad: the policy being trained
  torch::Tensor old_logprobs;  // [N, T] float32: the policy that the ratio is taken against
  torch::Tensor advantages;    // [N] or [N, T] float32
  torch::Tensor mask;          // [N, T] bool or float 0/1: completion tokens that count
};

struct PerTokenLoss {
  torch::Tensor loss;  // [N, T] float32; entries outside the mask are not meaningful
  Metrics metrics;
};

using PolicyLossFn = std::function<PerTokenLoss(const PolicyLossInput&, const PolicyLossOptions&)>;

// The table of policy losses; built-ins are present on first use.
Registry<PolicyLossFn>& policy_losses();

PerTokenLoss ppo_clip_loss(const PolicyLossInput& input, const PolicyLossOptions& options);
PerTokenLoss gspo_loss(const PolicyLossInput& input, const PolicyLossOptions& options);

// Checks PolicyLossInput's shapes against logprobs [N, T]; returns advantages as [N, 1] or [N, T].
torch::Tensor checked_advantages(const PolicyLossInput& input);

}  // namespace grpo::rl
