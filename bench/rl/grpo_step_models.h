// The models of one benchmarked GRPO step, made as the trainer makes them (rl/stage/stage_setup.cpp's
// load_trained_policy, rl/trainer/grpo_trainer.cpp's setup and reference_log_probs) but from a
// random policy of a benchmark shape: the policy with its LoRA adapters (model::attach_lora, the
// base frozen), GRPO's KL reference (none at kl_beta 0; with LoRA the policy itself with its
// adapters off, model::LoraDisabled, no second model; otherwise a frozen copy of the initial
// policy in the compute dtype, as the trainer loads policy.path again), and what trains: the
// trainable parameters and the bytes the optimizer holds for them. Not here: the rollout engine
// and the timed loop (grpo_step_bench.cpp).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/arch/config.h"
#include "model/arch/transformer.h"
#include "model/lora/lora_config.h"
#include "rl/trainer/grpo_learner.h"
#include "rl/trainer/stage_optimizer.h"

namespace grpo::bench {

// What --lora-targets defaults to: every projection model::attach_lora adapts on this
// architecture. Attention: q_proj, k_proj, v_proj, o_proj; MLA's q_proj (or q_a_proj and q_b_proj
// with q_lora_rank), kv_a_proj_with_mqa and o_proj (never kv_b_proj). The MLP's gate_proj,
// up_proj and down_proj only when no layer is MoE: the experts carry the same names, and
// attach_lora refuses them.
std::vector<std::string> default_lora_targets(const model::ModelConfig& config);

// policy.lora from the benchmark's options: rank 0 = LoRA off (no targets); alpha <= 0 = 2·rank;
// targets_csv "q_proj,v_proj" or "" for default_lora_targets(config). Errors name the option.
model::LoraSettings lora_settings(int64_t rank, double alpha, const std::string& targets_csv,
                                  const model::ModelConfig& config);

// The policy a GRPO step trains: bench::random_model(shape, device, dtype, seed) with activation
// checkpointing as asked and, with lora.enabled(), the adapters attached and the base frozen.
model::CausalLM build_policy(const std::string& shape, const torch::Device& device, torch::Dtype dtype,
                             const model::LoraSettings& lora, bool gradient_checkpointing, uint64_t seed = 0);

// GRPO's KL reference, chosen as the trainer chooses it.
class KlReference {
 public:
  // kl_beta 0: none. A LoRA policy (adapters attached): the policy with its adapters off, nothing
  // built. Otherwise make_copy() (the initial policy, in the compute dtype), frozen.
  KlReference(model::CausalLM& policy, double kl_beta, const std::function<model::CausalLM()>& make_copy);

  bool enabled() const { return enabled_; }
  // The reference's log-probs of `sequences`: [N, Tc] float32, as GrpoLearner::score.
  torch::Tensor log_probs(const rl::GrpoLearner& learner, model::CausalLM& policy, const rl::SequenceBatch& sequences);
  // Bytes of the reference's own weights: 0 without one or with LoRA.
  int64_t model_bytes() const;

 private:
  bool enabled_ = false;
  model::CausalLM copy_{nullptr};  // full fine-tuning's reference
};

// What trains and what the optimizer holds for it.
struct TrainableState {
  int64_t trainable_params = 0, frozen_params = 0;
  int64_t weight_bytes = 0;           // every parameter of the model, in the dtype it holds
  int64_t master_bytes = 0;           // the float32 masters (MasterWeights)
  int64_t optimizer_state_bytes = 0;  // masters + their float32 gradients + AdamW's two moments
};
// After the optimizer is built (it repacks the parameters). AdamW keeps two moments shaped and
// typed like each master (rl/learner/optimizer.cpp), counted here from the masters.
TrainableState trainable_state(model::CausalLM& policy, const rl::StageOptimizer& optimizer);

}  // namespace grpo::bench
