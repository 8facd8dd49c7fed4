// What `grpo model info` reports about a config, computed from the architecture's tensor table
// alone (no weights are read): parameter counts (total, active per token, MTP) and inference
// cache bytes per token, beside what full multi-head K/V of the same heads would take.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/arch/config.h"

namespace grpo::model {

struct ModelInfo {
  std::string architecture;         // e.g. "deepseek_v3 (MLA, DeepSeekMoE 64 experts top-6, 2 shared)"
  int64_t params_total = 0;         // main model, embeddings and output head included (MTP excluded)
  int64_t params_active = 0;        // per token: total minus the routed experts a token does not use
  int64_t params_mtp = 0;           // MTP modules' own parameters (they share embedding and head)
  int64_t cache_bytes_per_token = 0;
  int64_t mha_cache_bytes_per_token = 0;
  torch::Dtype cache_dtype = torch::kBFloat16;
};

ModelInfo describe_model(const ModelConfig& config, torch::Dtype cache_dtype = torch::kBFloat16);
std::string format_model_info(const ModelInfo& info);  // human-readable, several lines

}  // namespace grpo::model
