// Hugging Face directories <-> CausalLM. Loading reads config.json, checks the checkpoint
// against the architecture's tensor table (a missing, unexpected or wrongly shaped tensor is an
// error naming it and both shapes) and copies the weights in. An MTP module the config announces
// but the checkpoint lacks (transformers does not save it) is left out of the model. Saving
// writes config.json, generation_config.json, safetensors shards with their index, and copies
// tokenizer files from a source directory, so transformers and vLLM load the result. Also random
// initialization for benchmarks and tests. It does not dequantize FP8 checkpoints.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "model/io/checkpoint.h"
#include "model/arch/config.h"
#include "model/arch/transformer.h"

namespace grpo::model {

struct LoadOptions {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;  // parameters; the V3 router bias stays float32
};

CausalLM load_model(const std::filesystem::path& dir, const LoadOptions& options = {});

// Copies the checkpoint's tensors into `model`, validating names and shapes first.
void load_weights(CausalLM& model, const CheckpointReader& reader);

struct SaveOptions {
  std::optional<torch::Dtype> dtype;  // default: as the parameters are
  uint64_t max_shard_bytes = kDefaultShardBytes;
  // Where generation_config.json and tokenizer files are copied from (e.g. the directory the
  // model was loaded from); empty = write a minimal generation_config.json and no tokenizer.
  std::filesystem::path source_dir;
};

void save_model(CausalLM& model, const std::filesystem::path& dir, const SaveOptions& options = {});

// The module's own tensors (parameters and persistent buffers) by module name; fused tensors
// (qkv_proj, gate_up_proj, stacked experts) appear once.
std::vector<std::pair<std::string, torch::Tensor>> model_tensors(CausalLM& model);
// Every checkpoint tensor by its checkpoint name, in the tensor table's order: views into the
// module's tensors (writing one writes the model).
std::vector<std::pair<std::string, torch::Tensor>> checkpoint_tensors(CausalLM& model);

// Casts parameters to `dtype`, keeping the V3 router bias in float32 as transformers does.
void cast_model(CausalLM& model, torch::Dtype dtype);

// Normal(0, std) linear/embedding/router weights, zero biases, unit norms, zero router bias;
// deterministic in `seed`.
void init_weights(CausalLM& model, uint64_t seed, double std = 0.02);

}  // namespace grpo::model
