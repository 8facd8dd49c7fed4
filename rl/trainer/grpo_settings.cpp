// The `rl:` and `optim:` keys (their registered names read from the registries) and the
// validation of `rl:`, `optim:` and `train:`; see grpo_settings.h. Compiled into grpo_experiment
// (rl/experiment/CMakeLists.txt), which composes every section: the registries it reads are
// rl/algorithms' and rl/learner's (grpo_rl_core), below the trainers.
#include "rl/trainer/grpo_settings.h"

#include "core/strings.h"
#include "rl/algorithms/advantages.h"
#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/kl.h"
#include "rl/algorithms/policy_loss.h"
#include "rl/algorithms/rollout_correction.h"
#include "rl/learner/optimizer.h"

namespace grpo::rl {
namespace {

template <class Registry>
void check_name(std::vector<std::string>& problems, const std::string& key, const std::string& value,
                const Registry& registry) {
  if (registry.contains(value)) return;
  problems.push_back("'" + key + "' is '" + value + "'" + did_you_mean(value, registry.names()) +
                     "; valid names: " + registry.joined_names());
}

}  // namespace

void describe(config::Fields& f, GrpoSettings& s) {
  f.field("group_size", s.group_size, 8, "Completions sampled per prompt (G); at least 2.");
  f.field("batch_size", s.batch_size, 128,
          "Completions per step (prompts per step x group_size); must be divisible by group_size.");
  f.field("advantage", s.advantage, "grpo", "Advantage estimator: grpo, rloo, reinforce_plus_plus_baseline.");
  f.choice("reward_scaling", s.reward_scaling, "group", reward_scalings().names(),
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
  f.field("micro_batch_tokens", s.micro_batch_tokens, 0,
          "Token budget per forward/backward instead of micro_batch_size: rows sorted by length, each micro-batch's "
          "rows x longest (prompt + completion) at most this (with pack_sequences: their total tokens); 0 = off. Must "
          "hold the longest sequence.");
  f.field("pack_sequences", s.pack_sequences, true,
          "The learner packs each micro-batch's sequences back to back into one row (variable-length attention, no "
          "padding computed) instead of padding rows to the longest; same loss and gradients.");
  f.field("dynamic_sampling", s.dynamic_sampling, false, "DAPO: drop groups whose rewards are all equal and sample more prompts.");
  f.field("dynamic_sampling_max_rounds", s.dynamic_sampling_max_rounds, 10, "Extra generation rounds allowed per step for dynamic sampling.");
  f.field("mask_truncated", s.mask_truncated, false, "Exclude completions that hit max_new_tokens from the loss.");
  f.field("rollout_correction", s.rollout_correction, "none",
          "Importance correction for rollout/learner mismatch: none, token_truncate, token_mask, sequence_truncate, sequence_mask.");
  f.field("rollout_correction_threshold", s.rollout_correction_threshold, 2.0, "Upper bound of the rollout importance weight.");
  f.choice("moe_routing_replay", s.moe_routing_replay, "off", {"off", "rollout"},
           "MoE policies: rollout = the rollout records the experts each token was routed to in every MoE layer and "
           "the learner's forwards use them instead of routing again (the router's weights at those experts keep its "
           "gradient), so a routing flip between the two paths cannot move the log-probs; the last completion token "
           "of each sequence, which the rollout never feeds, routes itself. An error on a dense policy.");
}

std::vector<std::string> validate(const GrpoSettings& s) {
  std::vector<std::string> p;
  if (s.group_size < 2) p.push_back("'rl.group_size' must be at least 2 (group-relative advantages need a group), got " + std::to_string(s.group_size));
  else if (s.batch_size % s.group_size != 0)
    p.push_back("'rl.batch_size' (" + std::to_string(s.batch_size) + ") must be divisible by 'rl.group_size' (" +
                std::to_string(s.group_size) + ")");
  if (s.batch_size < 1) p.push_back("'rl.batch_size' must be >= 1");
  if (s.num_iterations < 1) p.push_back("'rl.num_iterations' must be >= 1");
  if (s.minibatches < 1 || s.minibatches > s.batch_size) p.push_back("'rl.minibatches' must be in [1, rl.batch_size]");
  if (s.micro_batch_size < 1) p.push_back("'rl.micro_batch_size' must be >= 1");
  if (s.micro_batch_tokens < 0)
    p.push_back("'rl.micro_batch_tokens' must be >= 0 (0 = micro-batches of rl.micro_batch_size rows), got " +
                std::to_string(s.micro_batch_tokens));
  if (s.epsilon_low < 0 || s.epsilon_low >= 1) p.push_back("'rl.epsilon_low' must be in [0, 1)");
  if (s.epsilon_high < 0) p.push_back("'rl.epsilon_high' must be >= 0");
  if (s.dual_clip_c != 0 && s.dual_clip_c <= 1) p.push_back("'rl.dual_clip_c' must be 0 (off) or > 1");
  if (s.kl_beta < 0) p.push_back("'rl.kl_beta' must be >= 0");
  check_name(p, "rl.advantage", s.advantage, advantage_estimators());
  check_name(p, "rl.policy_loss", s.policy_loss, policy_losses());
  check_name(p, "rl.loss_aggregation", s.loss_aggregation, loss_aggregations());
  check_name(p, "rl.kl_estimator", s.kl_estimator, kl_estimators());
  if (s.rollout_correction != "none") check_name(p, "rl.rollout_correction", s.rollout_correction, rollout_corrections());
  return p;
}

void describe(config::Fields& f, OptimSettings& s) {
  f.field("lr", s.lr, 1e-6, "AdamW learning rate (peak).");
  f.field("betas", s.betas, std::vector<double>{0.9, 0.999}, "AdamW betas.");
  f.field("eps", s.eps, 1e-8, "AdamW epsilon.");
  f.field("weight_decay", s.weight_decay, 0.0, "AdamW decoupled weight decay.");
  f.field("warmup_steps", s.warmup_steps, 0, "Linear warmup from 0 to lr over this many optimizer steps.");
  f.choice("schedule", s.schedule, "constant", lr_schedules().names(), "Learning-rate schedule after warmup.");
  f.field("min_lr_ratio", s.min_lr_ratio, 0.0, "cosine: final lr as a fraction of lr.");
  f.field("max_grad_norm", s.max_grad_norm, 1.0, "Global gradient-norm clip; 0 = off. Non-finite norms skip the step.");
}

std::vector<std::string> validate(const OptimSettings& s) {
  std::vector<std::string> p;
  if (s.betas.size() != 2) p.push_back("'optim.betas' must hold two numbers");
  if (s.lr <= 0) p.push_back("'optim.lr' must be > 0");
  return p;
}

std::vector<std::string> validate(const TrainSettings& s) {
  std::vector<std::string> p;
  if (s.steps < 0) p.push_back("'train.steps' must be >= 0");
  if (s.keep_last < 1) p.push_back("'train.keep_last' must be >= 1");
  return p;
}

std::vector<std::string> validate(const DistributedSettings& s) {
  std::vector<std::string> p;
  if (s.zero_stage != 0 && s.zero_stage != 1)
    p.push_back("'distributed.zero_stage' must be 0 or 1 (ZeRO-2/3 are not implemented), got " +
                std::to_string(s.zero_stage));
  return p;
}

}  // namespace grpo::rl
