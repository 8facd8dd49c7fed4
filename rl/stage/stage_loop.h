// The loop every training stage runs around its own step function: steps run.state.step + 1 ..
// loop.steps (a resumed run continues after its checkpoint), each followed by the evaluation
// when due and then the checkpoint when due, under one progress line; the pass@k evaluation the
// sampling stages run in it; and the stage's final save. A step's evaluation is logged before
// its checkpoint flushes the run store, so a resumed run never lacks the evaluation of a step it
// does not replay. Not here: what a step does and logs (the stage), the evaluation itself
// (policy/evaluation.h), evaluation after the loop (SFT's final eval loss).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "datasets/record.h"
#include "datasets/sampler.h"
#include "policy/evaluation.h"
#include "policy/policy_bundle.h"
#include "rewards/reward_set.h"
#include "rl/experiment/experiment_config.h"
#include "rl/stage/checkpoints.h"
#include "rl/stage/run_context.h"
#include "rl/trainer/grpo_settings.h"
#include "rollout/engine.h"

namespace grpo::rl {

struct StageLoop {
  // steps, save_every, keep_last and eval_every from `train:`, evaluating at both ends.
  StageLoop(std::string name, const TrainSettings& train);

  std::string name;          // the progress label
  int64_t steps = 0;         // the last step
  int64_t save_every = 0;    // checkpoint every N steps and after the last; 0 = after the last only
  int64_t keep_last = 3;     // checkpoints kept
  int64_t eval_every = 0;    // evaluate after every N-th step; 0 = never (not at the ends either)
  bool eval_at_ends = true;  // also before step 1 of a run that starts at step 0, and after the last

  // Whether step `step` is followed by an evaluation (step 0: the one before the first step).
  bool eval_due(int64_t step) const;
  bool save_due(int64_t step) const;
};

// Trains step `step` and logs its metrics; returns the progress line's note ("" = none).
using StepFn = std::function<std::string(int64_t step)>;
// Evaluates the policy after step `step` and logs the result.
using EvalFn = std::function<void(int64_t step)>;

// Runs the loop. checkpoint: what each checkpoint saves (read at each save, so a stage may point
// it at a reference that appears mid-run); sampler: the training sampler whose position each
// checkpoint records. evaluate: empty = the stage has nothing to evaluate on.
void run_stage_loop(RunContext& run, const StageLoop& loop, const CheckpointContents& checkpoint,
                    const datasets::ShuffleSampler& sampler, const StepFn& step, const EvalFn& evaluate);

// pass@1/pass@k/maj@k of the policy on `records` under policy::eval_options, the rule `grpo eval`
// follows (train.eval_samples samples per prompt with the rollout: sampling keys, greedy for one
// sample; correct = the set's correctness reward), logged as eval/* at `step` and as one line.
policy::EvalResult evaluate_and_log(RunContext& run, const ExperimentConfig& config, rollout::RolloutEngine& engine,
                                    const policy::PolicyBundle& policy, const std::vector<datasets::Record>& records,
                                    const rewards::RewardSet& reward_set, int64_t step);

// After an optimizer step (and once when the engine is built): engine.refresh_weights(policy),
// then, for a LoRA policy and an engine that runs its own copy (policy.lora.rollout merged, or
// another dtype), that copy's adapted rows := base + the adapters' update (model/lora/merge.h),
// in place, so captured CUDA graphs replay the new weights. A colocated engine runs the adapters.
void refresh_engine_weights(rollout::RolloutEngine& engine, model::CausalLM& policy);

// The stage's result: RUN_DIR/final, a Hugging Face directory of `policy` with its tokenizer
// files, logged as "final <role>: <dir>". Returns the directory ("" where !run.saves_checkpoints).
// A LoRA policy: its adapters in RUN_DIR/final/adapter (PEFT's format), then merged into the base
// in place, which RUN_DIR/final holds; the policy is not trained further after this.
std::filesystem::path save_final_policy(RunContext& run, policy::PolicyBundle& policy, const std::string& role);

}  // namespace grpo::rl
