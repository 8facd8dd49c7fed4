// Distillation data: a teacher samples k completions per prompt with the rollout engine, the
// configured rewards score them, a filter keeps the good ones, and the kept samples become a
// JSONL file the SFT stage reads. Each line is the source record (record_to_json: id, prompt
// or messages, answer, extra fields) plus the response field (sft.response_field) and a
// `distill` object with provenance: {"version": 1, "teacher", "prompt_id", "prompt_index",
// "sample", "source": "file:line", "rewards": {name: value}, "reward": total, "finish_reason",
// "tokens", "completion_ids"}: the response is valid UTF-8 (U+FFFD where the teacher's bytes
// are not), the ids are the teacher's exact tokens. The filter rule: keep a sample when every
// reward in `rewards` scores >= min_reward (and, unless keep_truncated, it ended by itself), at
// most max_per_prompt per prompt.
// Not here: deduplication of identical samples, resuming a half-finished generation (a run
// interrupted before the file is complete generates it again, identically from the seed).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "datasets/record.h"
#include "policy/policy_bundle.h"
#include "rewards/reward_set.h"
#include "rl/experiment/experiment_config.h"
#include "rollout/engine.h"

namespace grpo::rl {

struct FilterRule {
  std::vector<std::string> rewards;  // every one must score >= min_reward
  double min_reward = 1.0;
  bool keep_truncated = false;
  int64_t max_per_prompt = 0;  // 0 = no limit
};

// distill.filter_rewards, or the default (the correctness reward + `format` when configured); a
// name that is not among the configured rewards is a grpo::Error naming distill.filter_rewards.
FilterRule filter_rule(const DistillSettings& settings, const rewards::RewardSet& reward_set);

// Checks the distill: section against the rest of the config (teacher set, positive counts,
// mode-specific needs); one grpo::Error listing every problem.
void check_distill_settings(const ExperimentConfig& config);

struct TeacherSampling {
  int64_t samples_per_prompt = 4;
  int64_t generate_batch = 64;  // prompts per engine call
  rollout::RolloutSettings rollout;
  uint64_t seed = 0;
  std::string teacher_label;   // written into each line's provenance (the teacher's path)
  std::string response_field = "response";
  int64_t log_samples = 0;     // teacher samples (kept or not) to return for the run store
};

struct DistillCounts {
  int64_t prompts = 0, generated = 0, kept = 0, truncated = 0, prompts_with_kept = 0;
  std::map<std::string, int64_t> passed;     // reward name -> samples scoring >= min_reward
  std::map<std::string, double> reward_mean;  // reward name -> mean over generated samples
  // distill/prompts, distill/generated, distill/kept, distill/kept_frac, distill/truncated,
  // distill/prompts_with_kept, distill/passed/<reward>, reward/<reward>/mean.
  std::map<std::string, double> metrics() const;
};

struct DistillData {
  std::string jsonl;  // the kept samples, one JSON object per line
  DistillCounts counts;
  std::vector<nlohmann::json> logged;  // the first log_samples samples with ids, reasons and "kept"
};

// Samples every record with the teacher (engine colocated with teacher.model), scores and
// filters. Deterministic in sampling.seed.
DistillData make_distill_data(rollout::RolloutEngine& engine, const policy::PolicyBundle& teacher,
                              const std::vector<datasets::Record>& records, const rewards::RewardSet& reward_set,
                              const FilterRule& rule, const TeacherSampling& sampling);

}  // namespace grpo::rl
