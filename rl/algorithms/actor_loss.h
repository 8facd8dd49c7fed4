// The actor's loss for one (micro-)batch, composed from the registered pieces in TRL's order:
//   l_t  = policy_loss(logp, old, A)_t                  (policy_loss.h, by name)
//   l_t *= is_weight_t                                   (rollout_correction.h), when given
//   l_t += β · kl(logp, ref)_t                           (kl.h, by name), when β > 0
//   loss = aggregate(l) - entropy_coef · aggregate(H)    (aggregation.h, by name)
// Adding β·kl before aggregating equals verl's separate agg(kl) term (aggregation is linear).
// Metrics: the policy loss's, plus actor/pg_loss, actor/kl (masked token mean, when β > 0 or ref
// log-probs are given), actor/entropy (masked token mean, when entropy is given) and actor/loss.
// Not here: the gradient-accumulation weight (rl/learner/grad_accumulation.h multiplies it in).
#pragma once

#include <torch/torch.h>

#include <string>

#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/metrics.h"
#include "rl/algorithms/policy_loss.h"

namespace grpo::rl {

struct ActorLossOptions {
  std::string policy_loss = "ppo_clip";
  PolicyLossOptions clip;
  std::string aggregation = "seq-mean-token-mean";
  AggregationContext aggregation_context;
  double kl_beta = 0.0;  // 0: no KL term and no reference log-probs needed
  std::string kl_estimator = "k3";
  double entropy_coef = 0.0;  // > 0 raises entropy (a bonus); needs entropy
};

// Padding positions may hold any finite value.
struct ActorLossInput {
  torch::Tensor logprobs;      // [N, T] float32, requires grad
  torch::Tensor old_logprobs;  // [N, T] float32; undefined: logprobs.detach() (μ = 1, on-policy)
  torch::Tensor advantages;    // [N] or [N, T] float32
  torch::Tensor mask;          // [N, T] bool or float 0/1
  torch::Tensor ref_logprobs;  // [N, T] float32; required when kl_beta > 0
  torch::Tensor entropy;       // [N, T] float32; required when entropy_coef > 0
  torch::Tensor is_weights;    // [N, T] float32 rollout correction weights; optional
};

struct ActorLossResult {
  torch::Tensor loss;  // 0-dim float32, differentiable
  Metrics metrics;
};

ActorLossResult actor_loss(const ActorLossInput& input, const ActorLossOptions& options);

}  // namespace grpo::rl
