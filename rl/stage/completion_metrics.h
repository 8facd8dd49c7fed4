// The reward, length and "aha" metrics of one step's scored completions, under the names every
// sampling stage (GRPO, on-policy distillation) logs: reward/<name>/mean for each reward,
// reward/accuracy (the share whose correctness reward is satisfied, rewards::reward_satisfied),
// reward/format_rate (the same for the format reward, format or tag_count; absent when the set
// has none), completion/length_mean and completion/length_p90, completion/truncated_frac, and
// the reflection-phrase rates aha/* (core/text/reflection_phrases.h). Every completion of the step counts, not
// only those logged as samples. Not here: GRPO's spread of totals and lengths and its group
// metrics (the trainer adds them), evaluation metrics (policy/evaluation.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rewards/reward_set.h"

namespace grpo::rl {

// One step's completions, index j the same completion in every member; at least one.
struct StepCompletions {
  std::vector<std::vector<double>> values;  // [completion][reward], in the reward set's order
  std::vector<int64_t> lengths;             // [completion] tokens
  std::vector<bool> truncated;              // [completion] stopped at the length cap
  std::vector<std::string> texts;           // [completion] decoded text
};

// The nearest-rank 90th percentile: the smallest length with at least 90% of lengths at or below it.
double length_p90(std::vector<int64_t> lengths);

// reflection_phrases: metrics.reflection_phrases ([] logs no aha/*).
std::map<std::string, double> completion_metrics(const rewards::RewardSet& reward_set, const StepCompletions& step,
                                                 const std::vector<std::string>& reflection_phrases);

}  // namespace grpo::rl
