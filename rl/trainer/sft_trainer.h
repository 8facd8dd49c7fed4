// `grpo sft`: supervised fine-tuning on prompt/response records with the loss on the response
// tokens only (cold start, distillation), or pre-training on raw text (mode: text), including
// making a new small policy from scratch (sft.init_config), with its own tokenizer when none is
// given. Token-mean cross-entropy over each step's batch, AdamW with the shared schedule,
// checkpoints and exact resume as in GRPO, eval loss on data.eval. The final policy is also
// written to RUN_DIR/final as a Hugging Face directory. Not here: sequence packing (batches
// are right-padded; sort your data by length for less padding).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "policy/policy_bundle.h"
#include "rl/experiment/experiment_config.h"
#include "rl/stage/run_context.h"
#include "rl/trainer/sequence_batch.h"

namespace grpo::rl {

// `grpo sft`: opens the run, reads data.train and data.eval, and runs train_sft.
std::string run_sft(const ExperimentConfig& config, const RunRequest& request);

struct SftOutcome {
  std::filesystem::path final_dir;  // RUN_DIR/final
  int64_t steps = 0;                // optimizer steps of the stage
};

// The SFT stage inside a run that is already open (`grpo sft`, and `grpo distill` on the
// teacher's filtered samples): loads the policy (the resume checkpoint, a new model from
// sft.init_config, or policy.path), trains on `train`, reports the loss on `eval` (may be
// empty), checkpoints, and writes ctx.dir/final. Records need the sft.response_field field.
SftOutcome train_sft(const ExperimentConfig& config, RunContext& ctx, const std::vector<datasets::Record>& train,
                     const std::vector<datasets::Record>& eval);

// One training example as token ids: the prompt (no loss) and the target (loss).
struct SftExample {
  std::vector<int64_t> prompt, target;
};

// Tokenizes records for SFT: response mode renders the prompt with the template and appends
// the end-of-sequence token to the response (so the model learns to stop); text mode puts the
// first token in `prompt` and every other token of prompt text + response in `target`.
// Examples are cut to max_length tokens. A record without the response field is an error
// naming its file:line.
std::vector<SftExample> make_sft_examples(const std::vector<datasets::Record>& records, const policy::PolicyBundle& policy,
                                          const SftSettings& settings);

// The SFT loss: mean negative log-likelihood over the target tokens of `batch` (completion_mask);
// prompt tokens are context only and carry no loss. Differentiable.
torch::Tensor sft_batch_loss(model::CausalLM& model, const SequenceBatch& batch);

// Mean negative log-likelihood per target token over `examples` (no gradient).
double sft_eval_loss(policy::PolicyBundle& policy, const std::vector<SftExample>& examples, int64_t batch_size);

}  // namespace grpo::rl
