// Config sections of the GRPO and SFT trainers: `policy:`, `rl:`, `optim:` and `train:`, each
// with its validate() (grpo_settings.cpp). Names of registered pieces (advantage estimator,
// policy loss, aggregation, KL estimator, rollout correction) are checked against their
// registries, and a wrong one lists the valid names. Defaults follow TRL's GRPOTrainer unless a
// comment says otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"
#include "model/lora/lora_config.h"

namespace grpo::rl {

struct PolicySettings {
  std::string path;             // Hugging Face directory
  std::string tokenizer;        // directory or tokenizer.json; "" = the policy's directory
  std::string template_name;    // prompt template
  std::string system_prompt;
  bool gradient_checkpointing = false;
  model::LoraSettings lora;
};

inline void describe(config::Fields& f, PolicySettings& s) {
  f.field("path", s.path, "", "Hugging Face checkpoint directory of the policy (config.json + safetensors).");
  f.field("tokenizer", s.tokenizer, "", "tokenizer.json or its directory; empty = the policy's directory.");
  f.field("template", s.template_name, "r1_zero",
          "Prompt template (configs/templates/NAME.yaml): r1_zero, chatml, llama3, deepseek, raw.");
  f.field("system_prompt", s.system_prompt, "", "System message for chat templates; empty = none.");
  f.field("gradient_checkpointing", s.gradient_checkpointing, false, "Recompute each layer in the backward pass to save memory.");
  f.section("lora", s.lora,
            "LoRA adapters (docs/lora.md): with targets set, `grpo rl`, `sft` and `distill` train only the adapters "
            "and checkpoint them in PEFT's format.");
}

struct GrpoSettings {
  int64_t group_size = 8;
  int64_t batch_size = 128;
  std::string advantage;
  std::string reward_scaling;
  double advantage_epsilon = 1e-4;
  std::string policy_loss;
  double epsilon_low = 0.2, epsilon_high = 0.2, dual_clip_c = 0.0;
  std::string loss_aggregation;
  double kl_beta = 0.0;
  std::string kl_estimator;
  bool kl_in_reward = false;
  int64_t ref_refresh_steps = 0;
  double entropy_coef = 0.0;
  int64_t num_iterations = 1;
  int64_t minibatches = 1;
  int64_t micro_batch_size = 8;
  int64_t micro_batch_tokens = 0;
  bool pack_sequences = true;
  bool dynamic_sampling = false;
  int64_t dynamic_sampling_max_rounds = 10;
  bool mask_truncated = false;
  std::string rollout_correction;
  double rollout_correction_threshold = 2.0;
  std::string moe_routing_replay;  // "off" or "rollout"
};

// The section's keys; the names of registered pieces come from their registries.
void describe(config::Fields& f, GrpoSettings& s);

// Every problem of the section, one message each naming its key ('rl.group_size'); empty = valid.
std::vector<std::string> validate(const GrpoSettings& s);

struct OptimSettings {
  double lr = 1e-6, weight_decay = 0.0, eps = 1e-8, max_grad_norm = 1.0, min_lr_ratio = 0.0;
  std::vector<double> betas;
  int64_t warmup_steps = 0;
  std::string schedule;
};

// The section's keys; the names of registered pieces come from their registries.
void describe(config::Fields& f, OptimSettings& s);

// Every problem of the section, one message each naming its key ('optim.lr'); empty = valid.
std::vector<std::string> validate(const OptimSettings& s);

struct TrainSettings {
  int64_t steps = 100;
  int64_t save_every = 50;
  int64_t keep_last = 3;
  int64_t eval_every = 0;
  int64_t eval_samples = 1;
  int64_t log_samples = 8;
};

inline void describe(config::Fields& f, TrainSettings& s) {
  f.field("steps", s.steps, 100, "Training steps.");
  f.field("save_every", s.save_every, 50, "Checkpoint every N steps (and at the end); 0 = only at the end.");
  f.field("keep_last", s.keep_last, 3, "Checkpoints kept; older ones are deleted.");
  f.field("eval_every", s.eval_every, 0, "Evaluate on data.eval every N steps (and at start and end); 0 = off.");
  f.field("eval_samples", s.eval_samples, 1, "Samples per eval prompt (pass@1 is their mean).");
  f.field("log_samples", s.log_samples, 8, "Completions stored in the run database per step.");
}

// Every problem of the section, one message each naming its key ('train.steps'); empty = valid.
std::vector<std::string> validate(const TrainSettings& s);

// `distributed:` — how a data-parallel run (docs/distributed.md) holds its optimizer state.
struct DistributedSettings {
  int64_t zero_stage = 0;
};

inline void describe(config::Fields& f, DistributedSettings& s) {
  f.field("zero_stage", s.zero_stage, 0,
          "0: every rank holds the whole optimizer state; 1 (ZeRO-1): rank r of W holds the float32 masters and "
          "AdamW moments of elements [r*ceil(n/W), (r+1)*ceil(n/W)) of each flat parameter group only, steps them "
          "and all-gathers the new weights. Checkpoints are the same files either way. One process: no effect.");
}

// Every problem of the section, one message each naming its key; empty = valid.
std::vector<std::string> validate(const DistributedSettings& s);

}  // namespace grpo::rl
