// Composition of policy loss, rollout weights, KL and entropy into the actor loss (see actor_loss.h).
#include "rl/algorithms/actor_loss.h"

#include "core/error.h"
#include "rl/algorithms/kl.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {

ActorLossResult actor_loss(const ActorLossInput& in, const ActorLossOptions& o) {
  // Resolve every name first, so a typo fails before any arithmetic.
  const auto& policy = policy_losses().get(o.policy_loss);
  loss_aggregations().get(o.aggregation);
  if (o.kl_beta > 0.0) kl_estimators().get(o.kl_estimator);
  require(o.kl_beta >= 0.0, "kl_beta: expected a value >= 0, got " + std::to_string(o.kl_beta));
  require(o.entropy_coef >= 0.0,
          "entropy_coef: expected a value >= 0, got " + std::to_string(o.entropy_coef));

  require_rank(in.logprobs, 2, "logprobs");
  const auto old = in.old_logprobs.defined() ? in.old_logprobs : in.logprobs.detach();
  auto [per_token, metrics] = policy({in.logprobs, old, in.advantages, in.mask}, o.clip);

  if (in.is_weights.defined()) {
    require_shape(in.is_weights, in.logprobs.sizes(), "is_weights");
    per_token = per_token * in.is_weights.detach().to(torch::kFloat32);
  }
  const auto pg_loss = aggregate_loss(o.aggregation, per_token, in.mask, o.aggregation_context);
  metrics["actor/pg_loss"] = pg_loss.detach();

  auto loss = pg_loss;
  if (o.kl_beta > 0.0) require_defined(in.ref_logprobs, "ref_logprobs (kl_beta > 0)");
  if (in.ref_logprobs.defined()) {
    const auto kl = kl_estimate(o.kl_estimator, in.logprobs, in.ref_logprobs);
    metrics["actor/kl"] = masked_mean(kl.detach(), in.mask);
    if (o.kl_beta > 0.0)
      loss = loss + o.kl_beta * aggregate_loss(o.aggregation, kl, in.mask, o.aggregation_context);
  }
  if (o.entropy_coef > 0.0) require_defined(in.entropy, "entropy (entropy_coef > 0)");
  if (in.entropy.defined()) {
    require_shape(in.entropy, in.logprobs.sizes(), "entropy");
    metrics["actor/entropy"] = masked_mean(in.entropy.detach(), in.mask);
    if (o.entropy_coef > 0.0)
      loss =
          loss - o.entropy_coef * aggregate_loss(o.aggregation, in.entropy, in.mask, o.aggregation_context);
  }
  metrics["actor/loss"] = loss.detach();
  return {loss, metrics};
}

}  // namespace grpo::rl
