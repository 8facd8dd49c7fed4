// Group-relative advantage estimators (see advantages.h). Arithmetic runs in float64 so that the
// z-scores of small groups are exact to float32 precision; results come back as float32.
#include "rl/algorithms/advantages.h"

#include "core/error.h"
#include "rl/algorithms/groups.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {
namespace {

// verl's masked_whiten adds this to the variance.
constexpr double kWhitenEpsilon = 1e-8;

// A batch's rewards by group, after checking shape, group size and finiteness.
struct GroupedRewards {
  Groups groups;
  torch::Tensor per_row;  // [N] float64
  torch::Tensor grouped;  // [N/G, G] float64, a view of per_row
};

GroupedRewards grouped_rewards(const torch::Tensor& rewards, const AdvantageOptions& options) {
  require_rank(rewards, 1, "rewards");
  const Groups groups(rewards.size(0), options.group_size, "rewards");
  auto r = rewards.detach().to(torch::kFloat64);
  auto finite = torch::isfinite(r);
  if (!finite.all().item<bool>()) {
    const auto row = torch::nonzero(finite.logical_not())[0][0].item<int64_t>();
    throw Error("rewards: row " + std::to_string(row) + " is not finite (" +
                std::to_string(r[row].item<double>()) + ")");
  }
  return {groups, r, groups.by_group(r)};
}

// Every estimator zeroes the groups that carry no signal (groups.h), so float rounding of
// their means cannot leave noise behind.
AdvantageResult finish(torch::Tensor grouped_advantages, const GroupedRewards& rewards) {
  const auto zero_var = rewards.groups.zero_variance(rewards.per_row).unsqueeze(1);  // [N/G, 1]
  auto a = grouped_advantages.masked_fill(zero_var, 0.0).reshape({-1}).to(torch::kFloat32);
  Metrics m;
  m["advantages/mean"] = a.mean();
  m["advantages/min"] = a.min();
  m["advantages/max"] = a.max();
  m["advantages/zero_std_frac"] = zero_var.to(torch::kFloat32).mean();
  return {a, m};
}

}  // namespace

const Registry<RewardScaling>& reward_scalings() {
  static const Registry<RewardScaling> scalings(
      "reward scaling", {{"group", RewardScaling::kGroup}, {"batch", RewardScaling::kBatch}, {"none", RewardScaling::kNone}});
  return scalings;
}

RewardScaling parse_reward_scaling(const std::string& name) { return reward_scalings().get(name); }

AdvantageResult grpo_advantages(const torch::Tensor& rewards, const AdvantageOptions& options) {
  const auto grouped = grouped_rewards(rewards, options);
  const auto& r = grouped.grouped;
  auto centered = r - r.mean(1, true);
  switch (options.scaling) {
    case RewardScaling::kGroup:
      centered = centered / (r.std(1, /*unbiased=*/true, /*keepdim=*/true) + options.epsilon);
      break;
    case RewardScaling::kBatch:
      centered = centered / (r.std(/*unbiased=*/true) + options.epsilon);
      break;
    case RewardScaling::kNone:
      break;
  }
  return finish(centered, grouped);
}

AdvantageResult rloo_advantages(const torch::Tensor& rewards, const AdvantageOptions& options) {
  const auto grouped = grouped_rewards(rewards, options);
  const auto& r = grouped.grouped;
  const double g = static_cast<double>(options.group_size);
  return finish((r - r.mean(1, true)) * (g / (g - 1.0)), grouped);
}

AdvantageResult reinforce_plus_plus_baseline_advantages(const torch::Tensor& rewards,
                                                        const AdvantageOptions& options) {
  const auto grouped = grouped_rewards(rewards, options);
  const auto& r = grouped.grouped;
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
  return finish((centered - mean) * torch::rsqrt(var + kWhitenEpsilon), grouped);
}

Registry<AdvantageFn>& advantage_estimators() {
  static Registry<AdvantageFn> registry("advantage estimator", {
      {"grpo", grpo_advantages},
      {"rloo", rloo_advantages},
      {"reinforce_plus_plus_baseline", reinforce_plus_plus_baseline_advantages},
  });
  return registry;
}

AdvantageResult compute_advantages(const std::string& name, const torch::Tensor& rewards,
                                   const AdvantageOptions& options) {
  return advantage_estimators().get(name)(rewards, options);
}

}  // namespace grpo::rl
