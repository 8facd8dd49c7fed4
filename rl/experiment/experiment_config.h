// The whole configuration of a grpo experiment, composed from each module's own section.
// One schema serves `grpo rl`, `sft`, `distill`, `eval` and `config show|check|docs`: a stage
// reads the sections it needs and ignores the rest. docs/config.md is generated from it.
#pragma once

#include <string>
#include <vector>

#include "core/config/config_io.h"
#include "core/run_settings.h"
#include "datasets/dataset_config.h"
#include "rewards/audit.h"
#include "rewards/reward_settings.h"
#include "rl/stage/metrics_settings.h"
#include "rl/trainer/distill_settings.h"
#include "rl/trainer/grpo_settings.h"
#include "rl/trainer/sft_settings.h"
#include "rollout/generation.h"

namespace grpo {

struct DataSettings {
  datasets::DataSourceSettings train, eval;
  int64_t eval_limit = 0;
};

inline void describe(config::Fields& f, DataSettings& s) {
  f.section("train", s.train, "Training prompts (RL) or examples (SFT).");
  f.section("eval", s.eval, "Held-out set for evaluation during and after training; path empty = none.");
  f.field("eval_limit", s.eval_limit, 0, "Evaluate on at most this many eval records; 0 = all.");
}

struct ExperimentConfig {
  RunSettings run;
  rl::PolicySettings policy;
  DataSettings data;
  rollout::RolloutSettings rollout;
  std::vector<rewards::RewardSpec> rewards;
  rewards::AuditSettings audit;
  rl::MetricsSettings metrics;
  rl::GrpoSettings rl;
  rl::OptimSettings optim;
  rl::TrainSettings train;
  rl::SftSettings sft;
  rl::DistillSettings distill;
  rl::DistributedSettings distributed;
};

inline void describe(config::Fields& f, ExperimentConfig& c) {
  f.section("run", c.run, "Run identity, seed, output directory and machine settings.");
  f.section("policy", c.policy, "The policy: checkpoint, tokenizer and prompt template.");
  f.section("data", c.data, "Datasets.");
  f.section("rollout", c.rollout, "Sampling of completions.");
  f.list("rewards", c.rewards,
         {rewards::RewardSpec{"math_accuracy", 1.0, nlohmann::json::object()},
          rewards::RewardSpec{"format", 0.5, nlohmann::json::object()}},
         "Rewards and their weights; the total reward is the weighted sum.");
  f.section("audit", c.audit,
            "Reward-hacking audit: the audit/* metrics logged every GRPO step (docs/rewards.md#gaming) and the "
            "fraction above which each logs a warning.");
  f.section("metrics", c.metrics,
            "What GRPO and on-policy distillation measure about each step's completions besides rewards: the "
            "reflection phrases of the aha/* rates.");
  f.section("rl", c.rl, "GRPO algorithm.");
  f.section("optim", c.optim, "Optimizer and learning-rate schedule (GRPO and SFT).");
  f.section("train", c.train, "Loop length, checkpoints, evaluation and sample logging.");
  f.section("sft", c.sft, "Supervised fine-tuning and pre-training (`grpo sft`).");
  f.section("distill", c.distill, "Distillation from a teacher (`grpo distill`).");
  f.section("distributed", c.distributed, "Data-parallel runs over several ranks (docs/distributed.md).");
}

// Checks that a single key's type cannot express (ranges, group size, divisibility, registered
// names), composed from each section's own validate() (run, rollout, rl, rewards, audit, metrics, optim,
// train, sft; distill's runs when a distill stage starts). Throws one grpo::Error listing every
// problem.
void validate(const ExperimentConfig& config);

// Loads FILE (none when `path` is empty: the defaults) with key=value overrides, then
// validates. Errors name file:line:column or the override.
ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides);

// docs/config.md, generated from the descriptions above.
std::string experiment_config_docs();

}  // namespace grpo
