// Folding LoRA adapters into base weights: W[rows] += scaling·B·A, computed in float32 and rounded
// once to the weight's dtype. Two uses: a merged Hugging Face model (`grpo model merge`, the final
// model of a LoRA run), and a rollout engine that runs its own copy of the policy
// (policy.lora.rollout merged, or another dtype): its copy has no adapters, so it receives the
// merged weights after each update. A colocated engine needs neither: it runs the policy's own
// layers, adapters included.
#pragma once

#include <torch/torch.h>

#include "model/arch/transformer.h"

namespace grpo::model {

// scaling·B·A for one adapter: [rows, in] float32 on the adapter's device ([E, rows, in] for the
// routed experts' stacked adapters).
torch::Tensor lora_weight_delta(const LoraSlice& slice);

// Adds every adapter into its layer's weight and switches the adapters off: the model computes
// the same function (up to rounding) as a plain model, and saves as one.
void merge_lora_(CausalLM& model);

// For every adapter of `source`, sets the same tensor's rows in `target` (the same config, any
// dtype, without adapters) to source's base rows plus the adapter's update, in place (every
// expert's rows of a routed-expert stack). Other tensors are
// left as they are (RolloutEngine::refresh_weights copies them).
void publish_merged_lora(CausalLM& target, CausalLM& source);

}  // namespace grpo::model
