// On-policy logit distillation (distill.mode: on_policy_kl). Each of train.steps steps samples
// distill.prompts_per_step prompts of data.train, lets the student generate
// distill.samples_per_prompt completions (rollout: settings, colocated engine), runs the teacher
// over the same completion tokens (its own template for the prompt), and minimizes the
// full-vocabulary reverse KL(student || teacher) at temperature 1 at every completion position
// (reverse_kl.h), token-mean over the step, accumulated over distill.micro_batch_size micro-
// batches, one AdamW step (optim:). Rewards score the student's samples for monitoring only.
// Checkpoints every train.save_every steps; --resume is exact as in GRPO (seeds from
// (run.seed, step), sampler position in the checkpoint). Teacher and student must share the
// tokenizer (checked on a prompt). Not here: sampled-token (k1) estimates, mixing with SFT or
// RL losses, a teacher on another device.
#pragma once

#include "rl/experiment/experiment_config.h"
#include "rl/stage/run_context.h"

namespace grpo::rl {

// Runs the loop inside an open run and writes ctx.dir/final.
void run_on_policy_distill(const ExperimentConfig& config, RunContext& ctx);

}  // namespace grpo::rl
