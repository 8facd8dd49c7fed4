// The in-training evaluation of every stage: policy::evaluate with the run's settings, its
// metrics logged to the run store as eval/* and one console line. Not here: the evaluation
// itself (policy/evaluation.h).
#pragma once

#include <cstdint>
#include <vector>

#include "datasets/record.h"
#include "policy/evaluation.h"
#include "policy/policy_bundle.h"
#include "rewards/reward_set.h"
#include "rl/experiment/experiment_config.h"
#include "rl/stage/run_context.h"
#include "rollout/engine.h"

namespace grpo::rl {

// pass@1/pass@k/maj@k of the policy on `records` (train.eval_samples samples per prompt at
// rollout.temperature, greedy for one sample; correct = the set's correctness reward), logged
// as eval/* at `step` and as one console line.
policy::EvalResult evaluate_and_log(RunContext& ctx, const ExperimentConfig& config, rollout::RolloutEngine& engine,
                                    const policy::PolicyBundle& policy, const std::vector<datasets::Record>& records,
                                    const rewards::RewardSet& reward_set, int64_t step);

}  // namespace grpo::rl
