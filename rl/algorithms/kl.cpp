// KL estimators and the in-reward KL penalty (see kl.h).
#include "rl/algorithms/kl.h"

#include "core/error.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {
namespace {

// verl's kl_penalty_forward bounds for k3 (low_var_kl).
constexpr double kK3LogRatioClamp = 20.0;
constexpr double kK3ValueClamp = 10.0;

torch::Tensor k1(const torch::Tensor& logprobs, const torch::Tensor& ref) { return logprobs - ref; }

torch::Tensor k2(const torch::Tensor& logprobs, const torch::Tensor& ref) {
  return 0.5 * (logprobs - ref).square();
}

torch::Tensor k3(const torch::Tensor& logprobs, const torch::Tensor& ref) {
  const auto d = (ref - logprobs).clamp(-kK3LogRatioClamp, kK3LogRatioClamp);
  return (torch::exp(d) - d - 1.0).clamp(-kK3ValueClamp, kK3ValueClamp);
}

}  // namespace

Registry<KlEstimatorFn>& kl_estimators() {
  static Registry<KlEstimatorFn> registry("KL estimator", {
      {"k1", k1},
      {"k2", k2},
      {"k3", k3},
  });
  return registry;
}

torch::Tensor kl_estimate(const std::string& name, const torch::Tensor& logprobs,
                          const torch::Tensor& ref_logprobs) {
  const auto& fn = kl_estimators().get(name);
  require_rank(logprobs, 2, "logprobs");
  require_shape(ref_logprobs, logprobs.sizes(), "ref_logprobs");
  return fn(logprobs.to(torch::kFloat32), ref_logprobs.detach().to(torch::kFloat32));
}

KlRewardResult subtract_kl_from_rewards(const torch::Tensor& rewards, const torch::Tensor& kl,
                                        const torch::Tensor& mask, double beta) {
  require_rank(kl, 2, "kl");
  require_shape(mask, kl.sizes(), "mask");
  require_shape(rewards, {kl.size(0)}, "rewards");
  require(beta >= 0.0, "kl beta: expected a value >= 0, got " + std::to_string(beta));
  const auto per_sequence = zero_outside_mask(kl.detach(), mask).sum(1);
  Metrics metrics;
  metrics["kl/in_reward_mean"] = per_sequence.mean();
  metrics["kl/token_mean"] = masked_mean(kl.detach(), mask);
  return {rewards.detach().to(torch::kFloat32) - beta * per_sequence, metrics};
}

}  // namespace grpo::rl
