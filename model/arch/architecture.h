// Architecture definitions apart from the runtime (llama.cpp style): for a ModelConfig, the
// table of every tensor a checkpoint holds, with its shape, and where its values live in the
// module. The loader checks checkpoints against it (missing, unexpected, wrong shape) and a test
// checks that the modules register exactly the tensors the table points into. Modules fuse what
// a checkpoint keeps apart, so one GEMM does the work of several: q/k/v in one qkv_proj,
// gate/up in one gate_up_proj, and each MoE layer's experts stacked [E, ...] (as transformers 5
// holds them in memory); the table maps each checkpoint tensor to its rows of the fused one.
// Aliases are names a checkpoint may carry that share another tensor's storage (tied lm_head,
// the MTP module's copies of the embedding and output head): accepted on load, written on save.
// It does not build modules or run anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/arch/config.h"

namespace grpo::model {

struct TensorSpec {
  std::string name;            // as the checkpoint stores it
  std::vector<int64_t> shape;  // as the checkpoint stores it
  // Its values in the module: tensor `param` (empty = `name` itself), then `param[expert]` when
  // expert >= 0, then rows [row_offset, row_offset + shape[0]).
  std::string param = {};
  int64_t expert = -1;
  int64_t row_offset = 0;

  const std::string& module_tensor() const { return param.empty() ? name : param; }
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
