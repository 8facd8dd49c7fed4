// The reward validation harness behind `grpo reward check --cases labeled.jsonl`: a team proves
// a reward set on labeled cases before training on it. One reward of a config (its correctness
// reward unless named) scores every case; a case passes when the reward is fully satisfied
// (rewards::reward_satisfied). Prints the agreement with the cases' expected labels and its
// confusion matrix, the disagreeing cases with their reasons, and throughput (the whole file
// scored as one batch, the way a training step scores) and latency (each case scored alone).
// With `against`, a second config's reward scores the same cases and the two are compared case
// by case (the expected labels become optional). Exits 1 under `min_agreement`.
#pragma once

#include <optional>
#include <string>

#include "rewards/completion_records.h"

namespace grpo::cli {

struct RewardCasesOptions {
  std::string config, cases;
  std::string against;                 // a second config to compare with; "" = none
  std::string reward, against_reward;  // reward names in each config; "" = its correctness reward
  std::string expected_field = "expected";
  rewards::RecordFields fields{"prompt", "completion", "answer", /*answer_required=*/false,
                               /*prompt_required=*/false};
  std::optional<double> min_agreement;  // against the expected labels, or between the configs
  size_t examples = 10;                 // disagreeing cases printed
};

void run_reward_cases(const RewardCasesOptions& options);

}  // namespace grpo::cli
