// `grpo rl`: the GRPO loop. Each step samples prompts, generates a group of completions per
// prompt with the colocated rollout engine (same weights as the learner), scores them on the
// reward pool, turns rewards into group-relative advantages, updates the policy, and records
// metrics and sample completions in the run store. Checkpoints every train.save_every steps;
// --resume continues from the newest checkpoint and replays nothing twice: the run store is
// truncated to the checkpoint's step, and every random draw comes from (run.seed, step), so a
// resumed CPU run reproduces an uninterrupted one exactly. Under a launcher's environment for
// several ranks (distributed/world.h) the ranks rendezvous, each rolls out and trains on its
// share of every step's prompts, and rank 0 alone writes the run (docs/distributed.md).
#pragma once

#include <string>

#include "rl/experiment/experiment_config.h"
#include "rl/stage/run_context.h"

namespace grpo::rl {

// Returns the run directory used.
std::string run_grpo(const ExperimentConfig& config, const RunRequest& request);

}  // namespace grpo::rl
