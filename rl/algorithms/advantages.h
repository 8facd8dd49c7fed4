// Advantage estimators for outcome rewards: one scalar reward per completion in, one scalar
// advantage per completion out (the loss broadcasts it over the completion's tokens). Completions
// arrive in groups of G consecutive rows that share a prompt (groups.h). Registered by name:
//   grpo                          (r - mean_g) / (std_g + eps), std with Bessel's correction;
//                                 scaling group | batch (TRL's batch std) | none (Dr. GRPO: r - mean_g)
//   rloo                          G/(G-1) · (r - mean_g) = r - mean of the other G-1
//   reinforce_plus_plus_baseline  r - mean_g, then whitened over the batch (verl: weighted by
//                                 token counts when given, var with Bessel's correction, eps 1e-8)
// Every estimator gives exactly zero to a group whose rewards are all equal
// (Groups::zero_variance): such a group carries no learning signal, and floating-point means
// would otherwise leave ±1e-8 noise (or, after whitening, a shift). Not here: token-level rewards, GAE/critics, NaN-as-missing rewards (a
// non-finite reward is an error naming its row).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "core/registry.h"
#include "rl/algorithms/metrics.h"

namespace grpo::rl {

enum class RewardScaling { kGroup, kBatch, kNone };

// The scalings configs pick by name (rl.reward_scaling): group, batch, none.
const Registry<RewardScaling>& reward_scalings();

// "group" | "batch" | "none"; anything else is a grpo::Error listing the three.
RewardScaling parse_reward_scaling(const std::string& name);

struct AdvantageOptions {
  int64_t group_size = 0;                        // G >= 2; the number of rows must divide by it
  double epsilon = 1e-6;                         // added to the std before dividing (TRL uses 1e-4)
  RewardScaling scaling = RewardScaling::kGroup;  // read by grpo only
  // reinforce_plus_plus_baseline only: [N] completion token counts, the whitening weights
  // (verl whitens over tokens). Undefined: each completion weighs 1.
  torch::Tensor token_counts;
};

struct AdvantageResult {
  torch::Tensor advantages;  // [N] float32, detached
  Metrics metrics;           // advantages/{mean,min,max,zero_std_frac}
};

// rewards: [N] any floating dtype, finite; row i belongs to group i / G.
using AdvantageFn = std::function<AdvantageResult(const torch::Tensor& rewards, const AdvantageOptions&)>;

// The table of estimators; built-ins are present on first use.
Registry<AdvantageFn>& advantage_estimators();

// Looks `name` up and runs it.
AdvantageResult compute_advantages(const std::string& name, const torch::Tensor& rewards,
                                   const AdvantageOptions& options);

AdvantageResult grpo_advantages(const torch::Tensor& rewards, const AdvantageOptions& options);
AdvantageResult rloo_advantages(const torch::Tensor& rewards, const AdvantageOptions& options);
AdvantageResult reinforce_plus_plus_baseline_advantages(const torch::Tensor& rewards,
                                                        const AdvantageOptions& options);

}  // namespace grpo::rl
