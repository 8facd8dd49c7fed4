// Validation of the `rl:`, `optim:` and `train:` sections; see grpo_settings.h. Compiled into
// grpo_experiment (rl/experiment/CMakeLists.txt), which composes every section's checks: the
// registries it reads are rl/algorithms' (grpo_rl_core), below the trainers.
#include "rl/trainer/grpo_settings.h"

#include "core/strings.h"
#include "rl/algorithms/advantages.h"
#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/kl.h"
#include "rl/algorithms/policy_loss.h"
#include "rl/algorithms/rollout_correction.h"

namespace grpo::rl {
namespace {

template <class Registry>
void check_name(std::vector<std::string>& problems, const std::string& key, const std::string& value,
                const Registry& registry) {
  if (registry.contains(value)) return;
  problems.push_back("'" + key + "' is '" + value + "'" + did_you_mean(value, registry.names()) +
                     "; valid names: " + registry.joined_names());
}

}  // namespace

std::vector<std::string> validate(const GrpoSettings& s) {
  std::vector<std::string> p;
  if (s.group_size < 2) p.push_back("'rl.group_size' must be at least 2 (group-relative advantages need a group), got " + std::to_string(s.group_size));
  else if (s.batch_size % s.group_size != 0)
    p.push_back("'rl.batch_size' (" + std::to_string(s.batch_size) + ") must be divisible by 'rl.group_size' (" +
                std::to_string(s.group_size) + ")");
  if (s.batch_size < 1) p.push_back("'rl.batch_size' must be >= 1");
  if (s.num_iterations < 1) p.push_back("'rl.num_iterations' must be >= 1");
  if (s.minibatches < 1 || s.minibatches > s.batch_size) p.push_back("'rl.minibatches' must be in [1, rl.batch_size]");
  if (s.micro_batch_size < 1) p.push_back("'rl.micro_batch_size' must be >= 1");
  if (s.epsilon_low < 0 || s.epsilon_low >= 1) p.push_back("'rl.epsilon_low' must be in [0, 1)");
  if (s.epsilon_high < 0) p.push_back("'rl.epsilon_high' must be >= 0");
  if (s.dual_clip_c != 0 && s.dual_clip_c <= 1) p.push_back("'rl.dual_clip_c' must be 0 (off) or > 1");
  if (s.kl_beta < 0) p.push_back("'rl.kl_beta' must be >= 0");
  check_name(p, "rl.advantage", s.advantage, advantage_estimators());
  check_name(p, "rl.policy_loss", s.policy_loss, policy_losses());
  check_name(p, "rl.loss_aggregation", s.loss_aggregation, loss_aggregations());
  check_name(p, "rl.kl_estimator", s.kl_estimator, kl_estimators());
  if (s.rollout_correction != "none") check_name(p, "rl.rollout_correction", s.rollout_correction, rollout_corrections());
  return p;
}

std::vector<std::string> validate(const OptimSettings& s) {
  std::vector<std::string> p;
  if (s.betas.size() != 2) p.push_back("'optim.betas' must hold two numbers");
  if (s.lr <= 0) p.push_back("'optim.lr' must be > 0");
  return p;
}

std::vector<std::string> validate(const TrainSettings& s) {
  std::vector<std::string> p;
  if (s.steps < 0) p.push_back("'train.steps' must be >= 0");
  if (s.keep_last < 1) p.push_back("'train.keep_last' must be >= 1");
  return p;
}

}  // namespace grpo::rl
