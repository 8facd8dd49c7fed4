// Attaching LoRA adapters to a CausalLM by Hugging Face module name, and switching them off.
// A target names the leaf of a checkpoint tensor (q_proj matches model.layers.<i>.self_attn.
// q_proj.weight, and gate_proj every dense MLP's and shared experts' gate_proj); on a fused layer
// (qkv_proj, gate_up_proj) the adapter covers that tensor's rows only, so every adapter
// corresponds to one PEFT module on disk. Routed experts are targeted as experts.gate_proj,
// experts.up_proj, experts.down_proj: every routed expert of every MoE layer gets its own A and B,
// stacked by expert beside the stacked weights (moe.h), one PEFT module per expert on disk.
// Shared experts, routed experts and MLA's kv_b_proj need policy.lora.rollout merged: with
// adapters in the decode path they are refused, because the decode reads their weights directly
// (moe_decode.h's kernels, MLA's absorbed attention), past the adapter. lm_head and the MTP
// modules are not decoder-layer linears. Attaching freezes every base parameter (requires_grad
// false), so MasterWeights and the optimizer see the adapters alone.
#pragma once

#include <string>
#include <vector>

#include "model/arch/moe.h"
#include "model/arch/transformer.h"
#include "model/lora/lora_config.h"

namespace grpo::model {

// Attaches one adapter per matched checkpoint tensor, on the layer's device and dtype, and
// freezes the rest. Errors: a target matching no layer (listing the adaptable names), a target
// the model cannot adapt (saying why), a rank outside [1, min(in, out)] (naming
// policy.lora.rank and the layer). Returns the adapted module names in the tensor table's order.
std::vector<std::string> attach_lora(CausalLM& model, const LoraSettings& settings);

// One adapter of the model and the weight it adapts.
struct LoraAdapterRef {
  LinearImpl* linear;        // the layer it sits on; null for routed experts' adapters
  const LoraSlice* slice;    // routed experts: a [E, rank, in] and b [E, rows, rank]
  std::string weight_name;   // the adapted parameter's name (model.layers.0.self_attn.qkv_proj.weight)
  torch::Tensor weight;      // that parameter: [out, in], or the experts' stack [E, out, in]
};
// Every adapter, in module order (deterministic for one config); empty without LoRA.
std::vector<LoraAdapterRef> lora_adapters(CausalLM& model);
bool has_lora(CausalLM& model);

// Switches every adapter of the model on or off (off: the model computes as its base).
void set_lora_enabled(CausalLM& model, bool on);

// While alive, the model computes as its base (every adapter off): GRPO's KL reference from the
// policy itself, with no second model. Restores each layer's previous state when destroyed.
class LoraDisabled {
 public:
  explicit LoraDisabled(CausalLM& model);
  ~LoraDisabled();
  LoraDisabled(const LoraDisabled&) = delete;
  LoraDisabled& operator=(const LoraDisabled&) = delete;

 private:
  std::vector<std::pair<LinearImpl*, bool>> linears_;
  std::vector<std::pair<RoutedExpertsImpl*, bool>> experts_;
};

}  // namespace grpo::model
