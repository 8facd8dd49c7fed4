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

namespace grpo::rl {

struct PolicySettings {
  std::string path;             // Hugging Face directory
  std::string tokenizer;        // directory or tokenizer.json; "" = the policy's directory
  std::string template_name;    // prompt template
  std::string system_prompt;
  bool gradient_checkpointing = false;
};

inline void describe(config::Fields& f, PolicySettings& s) {
  f.field("path", s.path, "", "Hugging Face checkpoint directory of the policy (config.json + safetensors).");
  f.field("tokenizer", s.tokenizer, "", "tokenizer.json or its directory; empty = the policy's directory.");
  f.field("template", s.template_name, "r1_zero",
          "Prompt template (configs/templates/NAME.yaml): r1_zero, chatml, llama3, deepseek, raw.");
  f.field("system_prompt", s.system_prompt, "", "System message for chat templates; empty = none.");
  f.field("gradient_checkpointing", s.gradient_checkpointing, false, "Recompute each layer in the backward pass to save memory.");
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
  bool dynamic_sampling = false;
  int64_t dynamic_sampling_max_rounds = 10;
  bool mask_truncated = false;
  std::string rollout_correction;
  double rollout_correction_threshold = 2.0;
};

inline void describe(config::Fields& f, GrpoSettings& s) {
  f.field("group_size", s.group_size, 8, "Completions sampled per prompt (G); at least 2.");
  f.field("batch_size", s.batch_size, 128,
          "Completions per step (prompts per step x group_size); must be divisible by group_size.");
  f.field("advantage", s.advantage, "grpo", "Advantage estimator: grpo, rloo, reinforce_plus_plus_baseline.");
  f.choice("reward_scaling", s.reward_scaling, "group", {"group", "batch", "none"},
           "grpo: divide by the group std (group), the batch std (batch), or not at all (none = Dr. GRPO).");
  f.field("advantage_epsilon", s.advantage_epsilon, 1e-4, "Added to the std before dividing (TRL 1e-4, verl 1e-6).");
  f.field("policy_loss", s.policy_loss, "ppo_clip", "Policy loss: ppo_clip (token-level ratio) or gspo (sequence-level ratio).");
  f.field("epsilon_low", s.epsilon_low, 0.2, "Lower clip range: ratio >= 1 - epsilon_low.");
  f.field("epsilon_high", s.epsilon_high, 0.2, "Upper clip range: ratio <= 1 + epsilon_high (DAPO clip-higher: 0.28).");
  f.field("dual_clip_c", s.dual_clip_c, 0.0, "Dual-clip bound for negative advantages (e.g. 3.0); 0 = off.");
  f.field("loss_aggregation", s.loss_aggregation, "seq-mean-token-mean",
          "seq-mean-token-mean (grpo), token-mean (bnpo), token-mean-global (dapo), seq-mean-token-sum-norm (dr_grpo), "
          "seq-mean-token-sum.");
  f.field("kl_beta", s.kl_beta, 0.0, "KL coefficient; 0 = no reference model is kept in memory.");
  f.field("kl_estimator", s.kl_estimator, "k3", "KL estimator: k1, k2, k3.");
  f.field("kl_in_reward", s.kl_in_reward, false, "Subtract beta x KL (per sequence) from the reward instead of adding it to the loss.");
  f.field("ref_refresh_steps", s.ref_refresh_steps, 0, "Copy the policy into the reference every N steps (R1: 400); 0 = never.");
  f.field("entropy_coef", s.entropy_coef, 0.0, "Entropy bonus coefficient; entropy is always reported.");
  f.field("num_iterations", s.num_iterations, 1, "Passes over each step's batch (mu); > 1 stores old log-probs.");
  f.field("minibatches", s.minibatches, 1, "Optimizer steps per pass (the batch is split into this many minibatches).");
  f.field("micro_batch_size", s.micro_batch_size, 8, "Completions per forward/backward (gradient accumulation inside a minibatch).");
  f.field("dynamic_sampling", s.dynamic_sampling, false, "DAPO: drop groups whose rewards are all equal and sample more prompts.");
  f.field("dynamic_sampling_max_rounds", s.dynamic_sampling_max_rounds, 10, "Extra generation rounds allowed per step for dynamic sampling.");
  f.field("mask_truncated", s.mask_truncated, false, "Exclude completions that hit max_new_tokens from the loss.");
  f.field("rollout_correction", s.rollout_correction, "none",
          "Importance correction for rollout/learner mismatch: none, token_truncate, token_mask, sequence_truncate, sequence_mask.");
  f.field("rollout_correction_threshold", s.rollout_correction_threshold, 2.0, "Upper bound of the rollout importance weight.");
}

// Every problem of the section, one message each naming its key ('rl.group_size'); empty = valid.
std::vector<std::string> validate(const GrpoSettings& s);

struct OptimSettings {
  double lr = 1e-6, weight_decay = 0.0, eps = 1e-8, max_grad_norm = 1.0, min_lr_ratio = 0.0;
  std::vector<double> betas;
  int64_t warmup_steps = 0;
  std::string schedule;
};

inline void describe(config::Fields& f, OptimSettings& s) {
  f.field("lr", s.lr, 1e-6, "AdamW learning rate (peak).");
  f.field("betas", s.betas, std::vector<double>{0.9, 0.999}, "AdamW betas.");
  f.field("eps", s.eps, 1e-8, "AdamW epsilon.");
  f.field("weight_decay", s.weight_decay, 0.0, "AdamW decoupled weight decay.");
  f.field("warmup_steps", s.warmup_steps, 0, "Linear warmup from 0 to lr over this many optimizer steps.");
  f.choice("schedule", s.schedule, "constant", {"constant", "cosine"}, "Learning-rate schedule after warmup.");
  f.field("min_lr_ratio", s.min_lr_ratio, 0.0, "cosine: final lr as a fraction of lr.");
  f.field("max_grad_norm", s.max_grad_norm, 1.0, "Global gradient-norm clip; 0 = off. Non-finite norms skip the step.");
}

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

}  // namespace grpo::rl
