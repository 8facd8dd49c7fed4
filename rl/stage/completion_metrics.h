// The reward and length metrics of one step's scored completions, under the names every
// sampling stage (GRPO, on-policy distillation) logs: reward/<name>/mean for each reward,
// reward/accuracy (the share whose correctness reward is satisfied, rewards::reward_satisfied),
// completion/length_mean and completion/truncated_frac. Not here: GRPO's spread of totals and
// lengths and its group metrics (the trainer adds them), evaluation metrics (policy/evaluation.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rewards/reward_set.h"

namespace grpo::rl {

// values: [completion][reward], in reward_set's order; lengths: [completion] tokens;
// truncated: [completion] stopped at the length cap. At least one completion.
std::map<std::string, double> completion_metrics(const rewards::RewardSet& reward_set,
                                                 const std::vector<std::vector<double>>& values,
                                                 const std::vector<int64_t>& lengths, const std::vector<bool>& truncated);

}  // namespace grpo::rl
