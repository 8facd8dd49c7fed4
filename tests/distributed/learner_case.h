// The fixed GRPO learner update that the data-parallel test runs on 2 ranks and once in one
// process: a tiny float32 Qwen2-shaped model, 4 prompts × groups of 2 with mixed prompt and
// completion lengths (one row masked out as a truncated row is), every loss term on, two
// minibatches of micro-batches of one row; and two such updates in a row with clipping on, with
// a checkpoint between them (the ZeRO-1 resume case). Shared by the rank program and the tests.
#pragma once

#include <string>
#include <vector>

#include "rl/trainer/grpo_learner.h"

namespace grpo::testing {

constexpr int64_t kCaseGroupSize = 2;
constexpr int64_t kCasePrompts = 4;

model::CausalLM case_model();
rl::GrpoSettings case_settings(const std::string& aggregation);
// AdamW with lr = eps = 0.1 and no clipping: a first step moves each weight by about its gradient.
rl::OptimSettings case_optim();
// The rows of `prompts` (indices into the case's prompts, each bringing its whole group), in order.
rl::LearnerBatch case_batch(const std::vector<int64_t>& prompts);
// Prompts rank, rank + world, ...: a rank's share of the step, as the data-parallel trainer deals them.
std::vector<int64_t> prompts_of_rank(int rank, int world);

struct CaseResult {
  std::vector<double> minibatch_losses;
  double grad_norm = 0;                // the optimizer's mean gradient norm over the steps
  std::vector<torch::Tensor> weights;  // after the update
  int64_t optimizer_state_bytes = 0;   // StageOptimizer::state_bytes on this rank
  // Every weight in one float32 vector, for comparing two results at once.
  torch::Tensor flat_weights() const;
};
// One update of a fresh case_model on case_batch(prompts); data_parallel: nullptr for one process.
// zero_stage: distributed.zero_stage; compute_dtype: the learner's (bf16: float32 masters).
CaseResult run_case(const std::string& aggregation, const std::vector<int64_t>& prompts,
                    distributed::ProcessGroup* data_parallel, int zero_stage = 0,
                    std::optional<torch::Dtype> compute_dtype = std::nullopt);

// Where run_two_updates checkpoints to and resumes from ("" = neither).
struct CaseCheckpoint {
  std::string save_to;      // after update 1: the policy weights (weights.pt) and the optimizer state
  std::string resume_from;  // instead of update 1: load such a checkpoint
};
// Two token-mean updates (steps 0 and 1) of a fresh case_model on case_batch(prompts), with the
// gradient norm clipped (every step clips); the result is the state after the second. Rank 0
// (or the one process) writes the checkpoint.
CaseResult run_two_updates(const std::vector<int64_t>& prompts, distributed::ProcessGroup* data_parallel,
                           int zero_stage, const CaseCheckpoint& checkpoint);

void save_case(const CaseResult& result, const std::string& path);
CaseResult load_case(const std::string& path);

}  // namespace grpo::testing
