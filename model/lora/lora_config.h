// The `policy.lora:` config section: which linear layers carry low-rank adapters, their rank,
// scaling, dropout and initialisation. Defaults follow PEFT's LoraConfig (r 8, lora_alpha 8,
// lora_dropout 0, A Kaiming-uniform and B zero), except that LoRA is off until `targets` names a
// layer. Not here: attaching the adapters (lora_adapters.h), their file format (peft_format.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"

namespace grpo::model {

struct LoraSettings {
  std::vector<std::string> targets;  // Hugging Face module names (q_proj, ...); empty = LoRA off
  int64_t rank = 8;
  double alpha = 8.0;
  double dropout = 0.0;
  std::string init = "default";  // "default" (A Kaiming-uniform) or "gaussian" (A ~ N(0, 1/rank))
  bool use_rslora = false;
  int64_t seed = 0;  // of A's initialisation
  // How the rollout engine applies the adapters: "merged" (its own copy of the policy, the
  // adapters merged in after each update) or "adapters" (the policy's own layers, x·Aᵀ·Bᵀ in the
  // decode path: no second copy of the weights).
  std::string rollout = "merged";

  bool enabled() const { return !targets.empty(); }
  // Whether the rollout engine runs its own copy of the policy with the adapters merged in.
  bool merged_rollout() const { return enabled() && rollout == "merged"; }
  // The factor on B·A: alpha / rank, or alpha / √rank with rsLoRA.
  double scaling() const {
    return use_rslora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
  }
};

inline void describe(config::Fields& f, LoraSettings& s) {
  f.field("targets", s.targets, std::vector<std::string>{},
          "Linear layers that get LoRA adapters, by Hugging Face module name: q_proj, k_proj, v_proj, o_proj, "
          "gate_proj, up_proj, down_proj (on DeepSeek: the dense MLPs and shared experts); MLA's q_proj, q_a_proj, "
          "q_b_proj, kv_a_proj_with_mqa, kv_b_proj; experts.gate_proj, experts.up_proj, experts.down_proj for "
          "per-expert adapters on every routed expert. Shared and routed experts and kv_b_proj need rollout: merged. "
          "Empty = no LoRA (the whole policy trains). With targets, only the adapters train and the base stays frozen.");
  f.field("rank", s.rank, 8, "Adapter rank r (PEFT's r); 1 to min(in, out) of every targeted layer.");
  f.field("alpha", s.alpha, 8.0, "lora_alpha: the update is scaled by alpha / rank (alpha / sqrt(rank) with use_rslora).");
  f.field("dropout", s.dropout, 0.0, "Dropout on the adapters' input while training, in [0, 1).");
  f.field("init", s.init, "default",
          "Initialisation of A (B starts at zero, so the adapted policy starts as the base): default "
          "(Kaiming-uniform, as torch.nn.Linear) or gaussian (normal with std 1/rank).");
  f.field("use_rslora", s.use_rslora, false, "Rank-stabilized LoRA: scale by alpha / sqrt(rank).");
  f.field("seed", s.seed, 0, "Seed of A's initialisation (a resume loads the adapters instead).");
  f.field("rollout", s.rollout, "merged",
          "How rollouts apply the adapters: merged (the engine runs its own copy of the policy, the adapters "
          "merged into it after every update: faster decode, one more copy of the weights) or adapters (the "
          "engine runs the policy's own layers, adapters in the decode path: no second copy, for memory-tight "
          "runs; shared and routed experts and kv_b_proj cannot then be adapted).");
}

// Every problem of the section, one message each naming its key ('policy.lora.rank'); empty = valid.
// The rank against each layer's size is checked when the adapters are attached.
std::vector<std::string> validate(const LoraSettings& s);

}  // namespace grpo::model
