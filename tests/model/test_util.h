// Helpers shared by the model tests: relative error as the parity criterion, tiny random configs
// for every architecture, and a scratch directory. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "core/filesystem.h"
#include "model/arch/config.h"

namespace grpo::model::testing {

// max |actual - expected| / max |expected|: the error relative to the tensor's scale (an
// elementwise ratio is meaningless near zero).
inline double relative_error(const torch::Tensor& actual, const torch::Tensor& expected) {
  auto a = actual.to(torch::kFloat64), e = expected.to(torch::kFloat64);
  return (a - e).abs().max().item<double>() / std::max(e.abs().max().item<double>(), 1e-30);
}

// A fresh empty directory under the system temp dir, removed by the caller's TearDown if wanted.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("grpo_model_test_" + name + "_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Tiny configs covering each architecture's features (GQA with/without bias, tied/untied, MLA
// with and without q LoRA, softmax/sigmoid routing with groups, YaRN, MTP).
inline ModelConfig tiny_config(const std::string& model_type) {
  nlohmann::json j = {{"model_type", model_type}, {"vocab_size", 97},          {"hidden_size", 32},
                      {"intermediate_size", 48},  {"num_hidden_layers", 2},     {"num_attention_heads", 4},
                      {"num_key_value_heads", 2}, {"max_position_embeddings", 128}, {"rms_norm_eps", 1e-6}};
  if (model_type == "qwen2") j["tie_word_embeddings"] = true;
  if (model_type == "llama")
    j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 32}};
  if (model_type == "deepseek_v2" || model_type == "deepseek_v3") {
    j.update({{"num_key_value_heads", 4}, {"kv_lora_rank", 16}, {"qk_nope_head_dim", 8}, {"qk_rope_head_dim", 4},
              {"v_head_dim", 8}, {"n_routed_experts", 8}, {"n_shared_experts", 1}, {"num_experts_per_tok", 2},
              {"moe_intermediate_size", 16}, {"first_k_dense_replace", 1}});
  }
  if (model_type == "deepseek_v2") j.update({{"q_lora_rank", nullptr}, {"topk_method", "group_limited_greedy"},
                                             {"n_group", 2}, {"topk_group", 1}, {"routed_scaling_factor", 1.5}});
  if (model_type == "deepseek_v3")
    j.update({{"q_lora_rank", 24}, {"n_group", 4}, {"topk_group", 2}, {"num_nextn_predict_layers", 1},
              {"rope_scaling", {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32},
                                {"beta_fast", 32}, {"beta_slow", 1}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}}}});
  return parse_model_config(j, "<tiny " + model_type + ">");
}

inline const char* kModelTypes[] = {"llama", "qwen2", "deepseek_v2", "deepseek_v3"};

}  // namespace grpo::model::testing
