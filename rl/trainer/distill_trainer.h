// `grpo distill`: making a student from a teacher, in one of two modes (distill.mode).
//  sft           R1's recipe for its small models: the teacher samples distill.samples_per_prompt
//                completions of every data.train prompt (rollout: settings), the rewards score
//                them, the filter keeps correct (and well-formatted) ones, RUN_DIR/
//                distill_data.jsonl records them with provenance (distill_data.h), and the
//                student (policy.path, or a new model from sft.init_config) is fine-tuned on
//                that file by the SFT stage (train_sft: same loop, checkpoints and resume).
//  on_policy_kl  the student samples, the teacher scores every position, and the loss is the
//                full-vocabulary reverse KL(student || teacher) per token, token-mean over the
//                step's completions (reverse_kl.h); see distill_on_policy.h.
// Both log their counts and losses to the run store; with data.eval and train.eval_every > 0
// the student's pass@k is measured before and after (and every eval_every on-policy steps).
// --resume: sft mode reuses a complete distill_data.jsonl and resumes the SFT checkpoint.
#pragma once

#include <string>

#include "rl/experiment/experiment_config.h"
#include "rl/stage/run_context.h"

namespace grpo::rl {

// Returns the run directory used.
std::string run_distill(const ExperimentConfig& config, const RunRequest& request);

}  // namespace grpo::rl
