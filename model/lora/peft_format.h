// LoRA adapters on disk in PEFT's format, which PeftModel.from_pretrained loads and vLLM serves:
// a directory with adapter_config.json (peft_type LORA, r, lora_alpha, lora_dropout,
// target_modules, bias "none", task_type CAUSAL_LM, base_model_name_or_path, ...) and
// adapter_model.safetensors holding, per adapted module M (a checkpoint module name such as
// model.layers.0.self_attn.q_proj), base_model.model.M.lora_A.weight [r, in] and
// base_model.model.M.lora_B.weight [out, r]: the names PEFT's save_pretrained writes (it strips
// the adapter name "default"). Routed experts' stacked adapters are written as one module per
// expert (model.layers.1.mlp.experts.3.gate_proj, target_modules entry experts.3.gate_proj),
// as Hugging Face's DeepSeek checkpoints name each expert, and read back into the stacks. The safetensors metadata carries grpo_adapter_version, our format
// version; PEFT ignores it. lora_alpha is written as scaling·r with use_rslora false, the same
// scaling PEFT will compute, since the model holds only the scaling. Not here: bias or
// modules_to_save training, DoRA, other PEFT methods.
#pragma once

#include <filesystem>
#include <string>

#include "model/arch/transformer.h"
#include "model/lora/lora_config.h"

namespace grpo::model {

inline constexpr const char* kAdapterConfigFile = "adapter_config.json";
inline constexpr const char* kAdapterWeightsFile = "adapter_model.safetensors";

// Whether `dir` holds an adapter (its adapter_config.json).
bool is_adapter_dir(const std::filesystem::path& dir);

// The model's adapters into `dir` (created), naming `base_model` as their base.
void save_adapter(CausalLM& model, const std::filesystem::path& base_model, const std::filesystem::path& dir);

struct AdapterConfig {
  LoraSettings settings;
  std::filesystem::path base_model;  // base_model_name_or_path
};
// adapter_config.json of `dir`; errors name the file and the key.
AdapterConfig read_adapter_config(const std::filesystem::path& dir);

// Copies `dir`'s adapter weights into the model's adapters (attach_lora first). Every adapter must
// have both tensors at its shape, and the file nothing else; errors name the tensor and both shapes.
void load_adapter_weights(CausalLM& model, const std::filesystem::path& dir);

// attach_lora with `dir`'s settings, then load_adapter_weights.
void load_adapter(CausalLM& model, const std::filesystem::path& dir);

}  // namespace grpo::model
