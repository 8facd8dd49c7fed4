// Training checkpoints: checkpoints/step-N/ is a Hugging Face directory (the policy, loadable
// by transformers and vLLM) plus what a resume needs: optimizer.pt (AdamW moments and step
// count), masters.pt (the float32 master weights of a bf16 model), trainer_state.json (step, data position, trainer-specific state; version 1) and, when the
// reference model differs from the initial policy, reference/ (another HF directory). A
// checkpoint is written under step-N.tmp and renamed when complete, so a crash mid-save never
// leaves a half checkpoint that a resume would trust. Only the last `keep_last` are kept.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "model/arch/transformer.h"
#include "rl/trainer/stage_optimizer.h"

namespace grpo::rl {

constexpr int kTrainerStateVersion = 1;

struct TrainerState {
  int64_t step = 0;                                   // steps completed
  nlohmann::json data = nlohmann::json::object();     // dataset sampler state
  nlohmann::json extra = nlohmann::json::object();    // trainer-specific (e.g. dynamic-sampling carry)
};

struct CheckpointContents {
  model::CausalLM* policy = nullptr;
  const StageOptimizer* optimizer = nullptr;
  model::CausalLM* reference = nullptr;  // saved only when given (it differs from the initial policy)
  std::filesystem::path tokenizer_source; // directory whose tokenizer files are copied
};

// Writes checkpoints_dir/step-{state.step}, then deletes all but the newest keep_last.
std::filesystem::path save_checkpoint(const std::filesystem::path& checkpoints_dir, const TrainerState& state,
                                      const CheckpointContents& contents, int64_t keep_last);

// The newest complete checkpoint, if any (leftover *.tmp directories are ignored).
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& checkpoints_dir);

// A stage's result: run_dir/final, a Hugging Face directory (model, config, generation config,
// the tokenizer files of `tokenizer_source`). Returns its path.
std::filesystem::path save_final_policy(model::CausalLM& policy, const std::filesystem::path& run_dir,
                                        const std::filesystem::path& tokenizer_source);

TrainerState read_trainer_state(const std::filesystem::path& checkpoint_dir);

}  // namespace grpo::rl
