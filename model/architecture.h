// Architecture definitions apart from the runtime (llama.cpp style): for a ModelConfig, the
// table of every tensor a checkpoint holds, with its shape. The loader checks checkpoints
// against it (missing, unexpected, wrong shape) and a test checks that the modules register
// exactly these names. Aliases are names a checkpoint may carry that share another tensor's
// storage (tied lm_head, the MTP module's copies of the embedding and output head): accepted
// on load, written on save. It does not build modules or run anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace grpo::model {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

struct TensorAlias {
  std::string name;    // as a checkpoint may store it
  std::string source;  // the table entry that holds the values
};

std::vector<TensorSpec> tensor_table(const ModelConfig& config);
std::vector<TensorAlias> tensor_aliases(const ModelConfig& config);
// Whether `name` belongs to an MTP module (model.layers.{L} with L >= num_hidden_layers).
bool is_mtp_tensor(const ModelConfig& config, const std::string& name);

}  // namespace grpo::model
