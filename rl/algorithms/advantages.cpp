// Group-relative advantage estimators (see advantages.h). Arithmetic runs in float64 so that the
// z-scores of small groups are exact to float32 precision; results come back as float32.
#include "rl/algorithms/advantages.h"

#include "core/error.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {
namespace {

// verl's masked_whiten adds this to the variance.
constexpr double kWhitenEpsilon = 1e-8;

// rewards [N] → [N/G, G] float64, after checking shape, group size and finiteness.
torch::Tensor grouped_rewards(const torch::Tensor& rewards, const AdvantageOptions& options) {
  require_rank(rewards, 1, "rewards");
  const int64_t n = rewards.size(0), g = options.group_size;
  require(g >= 2, "group_size: expected at least 2 completions per prompt, got " + std::to_string(g));
  require(n > 0 && n % g == 0,
          "rewards: " + std::to_string(n) + " rows do not divide into groups of " + std::to_string(g));
  auto r = rewards.detach().to(torch::kFloat64);
  auto finite = torch::isfinite(r);
  if (!finite.all().item<bool>()) {
    const auto row = torch::nonzero(finite.logical_not())[0][0].item<int64_t>();
    throw Error("rewards: row " + std::to_string(row) + " is not finite (" +
                std::to_string(r[row].item<double>()) + ")");
  }
  return r.view({n / g, g});
}

// [N/G, 1] bool: the group's rewards are all equal.
torch::Tensor zero_variance_groups(const torch::Tensor& grouped) {
  return (std::get<0>(grouped.max(1, true)) == std::get<0>(grouped.min(1, true)));
}

AdvantageResult finish(torch::Tensor grouped_advantages, const torch::Tensor& zero_var) {
  auto a = grouped_advantages.masked_fill(zero_var, 0.0).reshape({-1}).to(torch::kFloat32);
  Metrics m;
  m["advantages/mean"] = a.mean();
  m["advantages/min"] = a.min();
  m["advantages/max"] = a.max();
  m["advantages/zero_std_frac"] = zero_var.to(torch::kFloat32).mean();
  return {a, m};
}

}  // namespace

RewardScaling parse_reward_scaling(const std::string& name) {
  if (name == "group") return RewardScaling::group;
  if (name == "batch") return RewardScaling::batch;
  if (name == "none") return RewardScaling::none;
  throw Error("unknown reward scaling '" + name + "'; valid names: batch, group, none");
}

AdvantageResult grpo_advantages(const torch::Tensor& rewards, const AdvantageOptions& options) {
  auto r = grouped_rewards(rewards, options);
  auto centered = r - r.mean(1, true);
  switch (options.scaling) {
    case RewardScaling::group:
      centered = centered / (r.std(1, /*unbiased=*/true, /*keepdim=*/true) + options.epsilon);
      break;
    case RewardScaling::batch:
      centered = centered / (r.std(/*unbiased=*/true) + options.epsilon);
      break;
    case RewardScaling::none:
      break;
  }
  return finish(centered, zero_variance_groups(r));
}

AdvantageResult rloo_advantages(const torch::Tensor& rewards, const AdvantageOptions& options) {
  auto r = grouped_rewards(rewards, options);
  const double g = static_cast<double>(options.group_size);
  return finish((r - r.mean(1, true)) * (g / (g - 1.0)), zero_variance_groups(r));
}

AdvantageResult reinforce_plus_plus_baseline_advantages(const torch::Tensor& rewards,
                                                        const AdvantageOptions& options) {
  auto r = grouped_rewards(rewards, options);
  auto centered = r - r.mean(1, true);
  torch::Tensor w = torch::ones_like(centered);
  if (options.token_counts.defined()) {
    require_shape(options.token_counts, {rewards.size(0)}, "token_counts");
    w = options.token_counts.detach().to(torch::kFloat64).view_as(centered);
  }
  const auto total = w.sum();
  const auto mean = (w * centered).sum() / total;
  auto var = (w * (centered - mean).square()).sum() / total;
  const double weight = total.item<double>();
  if (weight > 1.0) var = var * (weight / (weight - 1.0));  // Bessel's correction, as verl
  return finish((centered - mean) * torch::rsqrt(var + kWhitenEpsilon), zero_variance_groups(r));
}

Registry<AdvantageFn>& advantage_estimators() {
  static Registry<AdvantageFn> registry = [] {
    Registry<AdvantageFn> r("advantage estimator");
    r.add("grpo", grpo_advantages);
    r.add("rloo", rloo_advantages);
    r.add("reinforce_plus_plus_baseline", reinforce_plus_plus_baseline_advantages);
    return r;
  }();
  return registry;
}

AdvantageResult compute_advantages(const std::string& name, const torch::Tensor& rewards,
                                   const AdvantageOptions& options) {
  return advantage_estimators().get(name)(rewards, options);
}

}  // namespace grpo::rl
