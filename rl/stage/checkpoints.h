// Training checkpoints: checkpoints/step-N/ is a Hugging Face directory (the policy, loadable
// by transformers and vLLM) plus what a resume needs: optimizer.pt (AdamW moments and step
// count), masters.pt (the float32 master weights of a bf16 model), trainer_state.json (step, data position, trainer-specific state; version 1) and, when the
// reference model differs from the initial policy, reference/ (another HF directory). A
// checkpoint is written under step-N.tmp and renamed when complete, so a crash mid-save never
// leaves a half checkpoint that a resume would trust. Only the last `keep_last` are kept.
// A policy with LoRA adapters is checkpointed as its adapters alone, in PEFT's format
// (model/lora/peft_format.h), naming the policy's source_dir as their base.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "model/arch/transformer.h"
#include "policy/policy_bundle.h"
#include "rl/trainer/stage_optimizer.h"

namespace grpo::rl {

constexpr int kTrainerStateVersion = 1;

struct TrainerState {
  int64_t step = 0;                                   // steps completed
  nlohmann::json data = nlohmann::json::object();     // dataset sampler state
  nlohmann::json extra = nlohmann::json::object();    // trainer-specific (e.g. dynamic-sampling carry)
};

struct CheckpointContents {
  policy::PolicyBundle* policy = nullptr;  // its model, and the tokenizer files of its source_dir
  const StageOptimizer* optimizer = nullptr;
  model::CausalLM* reference = nullptr;  // saved only when given (it differs from the initial policy)
};

// Writes checkpoints_dir/step-{state.step}, then deletes all but the newest keep_last.
std::filesystem::path save_checkpoint(const std::filesystem::path& checkpoints_dir, const TrainerState& state,
                                      const CheckpointContents& contents, int64_t keep_last);

// The newest complete checkpoint, if any (leftover *.tmp directories are ignored).
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& checkpoints_dir);

TrainerState read_trainer_state(const std::filesystem::path& checkpoint_dir);

}  // namespace grpo::rl
