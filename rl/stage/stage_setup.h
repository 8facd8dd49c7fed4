// What every training stage loads before its first step: its datasets (data.eval cut to
// data.eval_limit), the policy it trains (from the resume checkpoint or the stage's start
// directory), frozen models beside it (a reference or a teacher: no gradients, eval mode, the
// run's device and dtype), and the training sampler at the checkpoint's position. Not here: the
// stage's own settings checks, the optimizer (stage_optimizer.h), the rollout engine
// (policy/engine_factory.h).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "datasets/dataset_config.h"
#include "datasets/record.h"
#include "datasets/sampler.h"
#include "model/arch/transformer.h"
#include "policy/policy_bundle.h"
#include "rl/experiment/experiment_config.h"
#include "rl/stage/run_context.h"

namespace grpo::rl {

// The records of `source`, the first `limit` of them; limit 0 = all.
std::vector<datasets::Record> read_records(const datasets::DataSourceSettings& source, int64_t limit = 0);

// data.eval cut to data.eval_limit; empty when data.eval.path is.
std::vector<datasets::Record> read_eval_records(const DataSettings& data);

// The policy of `model_dir` with policy.template and policy.system_prompt, in `device` and
// `dtype`. tokenizer: as policy::PolicyLoad::tokenizer ("" = model_dir's).
policy::PolicyBundle load_policy(const PolicySettings& settings, const std::filesystem::path& model_dir,
                                 const std::string& tokenizer, const torch::Device& device, torch::Dtype dtype);

// The policy a stage trains, from `model_dir` (the resume checkpoint or the stage's start), with
// policy.gradient_checkpointing. Loaded in float32, the checkpoint's precision: the optimizer
// takes exact masters, then casts to the run's dtype. With policy.lora: the base (model_dir, or
// the base_model_name_or_path of model_dir's adapter on resume) frozen, with adapters attached
// (and loaded from model_dir on resume); only they train. source_dir is then the base, which
// checkpoints record as the adapters' base and whose tokenizer files a merged final model copies.
policy::PolicyBundle load_trained_policy(const PolicySettings& settings, const std::filesystem::path& model_dir,
                                         const std::string& tokenizer, const torch::Device& device);

// The model of `dir` (no tokenizer), frozen, in the run's device and dtype: GRPO's reference.
model::CausalLM load_frozen_model(const std::filesystem::path& dir, const RunContext& run);

// The teacher named by distill.teacher, with its tokenizer and template (distill.teacher_*,
// falling back to policy.template), frozen, in the run's device and dtype.
policy::PolicyBundle load_teacher(const ExperimentConfig& config, const RunContext& run);

// The training sampler over `dataset_size` records: where the resume checkpoint left it, else
// fresh from `seed`.
datasets::ShuffleSampler start_sampler(const RunContext& run, int64_t dataset_size, int64_t seed);

}  // namespace grpo::rl
