// Evaluation of a policy on held-out records: k samples per prompt through the rollout engine,
// scored by the run's rewards; a sample is correct when the reward named `correct_reward`
// gives >= 1 (math_accuracy, countdown and code give exactly 1 for a right answer). Reports
// pass@1 (mean over samples), unbiased pass@k, maj@k over extracted answers, mean length, mean
// reward; keeps per-sample records for JSONL output. Used by `grpo eval` and during training.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "datasets/eval_metrics.h"
#include "datasets/record.h"
#include "rewards/reward_set.h"
#include "rl/experiment/experiment_config.h"
#include "rl/trainer/policy_bundle.h"
#include "rl/trainer/run_context.h"
#include "rollout/engine.h"

namespace grpo::rl {

struct EvalOptions {
  int64_t k = 1;                 // samples per prompt
  double temperature = 0.0;      // 0 = greedy (then k must be 1)
  double top_p = 1.0;
  int64_t max_new_tokens = 256;
  std::vector<std::string> stop_strings;
  std::string correct_reward;    // "" = the set's correctness reward (RewardSet::correctness_index)
  uint64_t seed = 0;
};

struct EvalResult {
  datasets::EvalSummary summary;
  double mean_reward = 0.0;
  std::vector<nlohmann::json> samples;  // one object per (prompt, sample)
  std::map<std::string, double> metrics(const std::string& prefix) const;  // prefix/pass@1, ...
};

EvalResult evaluate(rollout::RolloutEngine& engine, const PolicyBundle& policy,
                    const std::vector<datasets::Record>& records, const rewards::RewardSet& reward_set,
                    const EvalOptions& options);

// The pass@k/maj@k values of k reported for k samples: 1, 2, 4, ... up to k, and k itself.
std::vector<int64_t> reported_ks(int64_t k);

// The in-training evaluation of every stage: pass@1/pass@k/maj@k of the policy on `records`
// (train.eval_samples samples per prompt at rollout.temperature, greedy for one sample; correct
// = the set's correctness reward), logged as eval/* at `step` and as one console line.
EvalResult evaluate_and_log(RunContext& ctx, const ExperimentConfig& config, rollout::RolloutEngine& engine,
                            const PolicyBundle& policy, const std::vector<datasets::Record>& records,
                            const rewards::RewardSet& reward_set, int64_t step);

}  // namespace grpo::rl
