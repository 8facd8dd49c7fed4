// Evaluation of a policy on held-out records: k samples per prompt through the rollout engine,
// scored by a reward set; a sample is correct when the reward named `correct_reward` gives >= 1
// (math_accuracy, countdown and code give exactly 1 for a right answer). Reports pass@1 (mean
// over samples), unbiased pass@k, maj@k over extracted answers, mean length, mean reward; keeps
// per-sample records for JSONL output. Used by `grpo eval` and by every training stage.
// Not here: logging to a run (evaluate_and_log in rl/stage/stage_loop.h), reading the data set.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "datasets/eval_metrics.h"
#include "datasets/record.h"
#include "policy/policy_bundle.h"
#include "rewards/reward_set.h"
#include "rollout/engine.h"
#include "rollout/generation.h"

namespace grpo::policy {

struct EvalOptions {
  int64_t k = 1;                       // samples per prompt
  rollout::RolloutSettings sampling;   // temperature 0 = greedy (then k must be 1); the engine keys are unused
  std::string correct_reward;          // "" = the set's correctness reward (RewardSet::correctness_index)
  uint64_t seed = 0;
};

// The evaluation of `samples` samples per prompt under the `rollout:` settings, the one rule of
// `grpo eval` and in-training evaluation: one sample per prompt is greedy, more are drawn at
// rollout.temperature with its top_p, top_k and min_p.
EvalOptions eval_options(const rollout::RolloutSettings& rollout, int64_t samples, uint64_t seed);

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

}  // namespace grpo::policy
