// config.json parsing: transformers' defaults, both RoPE spellings, YaRN numbers checked against
// values computed from transformers' formula (model-facts.md §1.7-1.8), and errors naming fields.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/text/json_parse.h"
#include "model/arch/architecture.h"
#include "model/arch/config.h"
#include "model/io/model_info.h"
#include "model/io/model_io.h"
#include "model/arch/rope.h"
#include "model/arch/transformer.h"
#include "test_util.h"

namespace grpo::model {
namespace {

nlohmann::json deepseek_v3_like() {
  return {{"model_type", "deepseek_v3"},
          {"max_position_embeddings", 163840},
          {"num_experts_per_tok", 6},
          {"rope_scaling",
           {{"type", "yarn"}, {"factor", 40}, {"original_max_position_embeddings", 4096}, {"beta_fast", 32},
            {"beta_slow", 1}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}}}};
}

TEST(Config, DeepseekV3DefaultsFollowTransformers) {
  auto c = parse_model_config({{"model_type", "deepseek_v3"}});
  EXPECT_EQ(c.vocab_size, 129280);
  EXPECT_EQ(c.hidden_size, 7168);
  EXPECT_EQ(c.n_routed_experts, 256);
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.first_k_dense_replace, 3);
  EXPECT_TRUE(c.rope_interleave);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_EQ(c.scoring_func, "sigmoid");
  EXPECT_EQ(c.head_dim, 64);  // = qk_rope_head_dim, what RoPE uses
  EXPECT_FALSE(c.is_moe_layer(2));
  EXPECT_TRUE(c.is_moe_layer(3));
}

TEST(Config, NullQLoraRankMeansPlainQueryProjection) {
  auto c = parse_model_config({{"model_type", "deepseek_v2"}, {"q_lora_rank", nullptr}, {"num_experts_per_tok", 6}});
  EXPECT_EQ(c.q_lora_rank, 0);
  EXPECT_EQ(c.topk_method, "greedy");
  EXPECT_EQ(c.scoring_func, "softmax");
}

TEST(Config, YarnFrequenciesAndSoftmaxScaleMatchTransformersFormula) {
  auto c = parse_model_config(deepseek_v3_like());
  auto f = rope_frequencies(c);
  ASSERT_EQ(f.inv_freq.numel(), 32);
  EXPECT_NEAR(f.inv_freq[0].item<double>(), 1.0, 1e-7);
  EXPECT_NEAR(f.inv_freq[10].item<double>(), 0.0562341, 1e-6);  // low = floor(10.47) = 10: unchanged
  EXPECT_NEAR(f.inv_freq[11].item<double>(), 0.0390069, 1e-6);  // blended
  EXPECT_NEAR(f.inv_freq[31].item<double>(), 3.33380e-06, 1e-10);  // divided by 40
  EXPECT_DOUBLE_EQ(f.attention_factor, 1.0);  // mscale == mscale_all_dim
  EXPECT_NEAR(c.attention_scale(), 0.1352338, 1e-7);
  auto v2 = deepseek_v3_like();
  v2["model_type"] = "deepseek_v2";
  v2["rope_scaling"]["mscale"] = 0.707;
  v2["rope_scaling"]["mscale_all_dim"] = 0.707;
  EXPECT_NEAR(parse_model_config(v2).attention_scale(), 0.1147214, 1e-7);
}

TEST(Config, RopeParametersAndLegacyRopeScalingAgree) {
  auto legacy = parse_model_config({{"model_type", "llama"}, {"head_dim", 64}, {"rope_theta", 500000.0},
                                    {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 32.0}, {"low_freq_factor", 1.0},
                                                      {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}}}});
  auto modern = parse_model_config({{"model_type", "llama"}, {"head_dim", 64},
                                    {"rope_parameters", {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 32.0},
                                                         {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                                                         {"original_max_position_embeddings", 8192}}}});
  EXPECT_EQ(legacy.rope.theta, 500000.0);
  EXPECT_TRUE(torch::equal(rope_frequencies(legacy).inv_freq, rope_frequencies(modern).inv_freq));
  auto inv = rope_frequencies(legacy).inv_freq;
  // High-frequency channels (wavelength < 8192/4) are untouched; low-frequency ones divided by 32.
  EXPECT_FLOAT_EQ(inv[0].item<float>(), 1.0f);
  const double plain_last = std::pow(500000.0, -62.0 / 64.0);
  EXPECT_NEAR(inv[31].item<double>(), plain_last / 32.0, plain_last * 1e-5);
}

TEST(Config, SavedJsonParsesBackToTheSameConfig) {
  for (const char* type : testing::kModelTypes) {
    auto c = testing::tiny_config(type);
    auto back = parse_model_config(model_config_to_json(c));
    EXPECT_EQ(tensor_table(back).size(), tensor_table(c).size()) << type;
    EXPECT_EQ(back.rope.type, c.rope.type) << type;
    EXPECT_DOUBLE_EQ(back.attention_scale(), c.attention_scale()) << type;
    EXPECT_TRUE(torch::equal(rope_frequencies(back).inv_freq, rope_frequencies(c).inv_freq)) << type;
  }
}

TEST(Config, BadFieldsAreNamed) {
  auto message = [](const nlohmann::json& j) {
    try {
      parse_model_config(j, "cfg.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({{"model_type", "gpt2"}}).find("model_type 'gpt2'"), std::string::npos);
  EXPECT_NE(message({{"model_type", "llama"}, {"hidden_size", "big"}}).find("'hidden_size'"), std::string::npos);
  EXPECT_NE(message({{"model_type", "llama"}, {"rope_scaling", {{"type", "dynamic"}, {"factor", 2.0}}}}).find("dynamic"),
            std::string::npos);
  EXPECT_NE(message({{"hidden_size", 8}}).find("model_type"), std::string::npos);
}

// Sizes a checkpoint's code would divide by or allocate from are refused with the field named.
TEST(Config, SizesOutsideTheirRangeAreNamed) {
  auto message = [](nlohmann::json j) {
    j["model_type"] = "llama";
    try {
      parse_model_config(j, "cfg.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({{"num_key_value_heads", 0}}).find("cfg.json: field 'num_key_value_heads' must be positive, got 0"),
            std::string::npos);
  EXPECT_NE(message({{"intermediate_size", -1}}).find("'intermediate_size' must be positive"), std::string::npos);
  EXPECT_NE(message({{"head_dim", -64}}).find("'head_dim' must be positive"), std::string::npos);
  const auto huge = message({{"vocab_size", kMaxModelConfigSize + 1}});
  EXPECT_NE(huge.find("'vocab_size' is " + std::to_string(kMaxModelConfigSize + 1) + ", beyond the limit of " +
                      std::to_string(kMaxModelConfigSize)),
            std::string::npos)
      << huge;
  EXPECT_NE(message({{"partial_rotary_factor", 4.0}}).find("'partial_rotary_factor' must be in (0, 1]"),
            std::string::npos);
  EXPECT_NE(message({{"rms_norm_eps", 0}}).find("'rms_norm_eps' must be a positive number"), std::string::npos);
  EXPECT_NE(message({{"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 4.0},
                                       {"high_freq_factor", 4.0}}}})
                .find("low_freq_factor < high_freq_factor"),
            std::string::npos);
  EXPECT_EQ(message({{"vocab_size", kMaxModelConfigSize}}), "");
}

TEST(Config, DeeplyNestedConfigJsonIsRefusedNamingTheFileAndLimit) {
  const auto dir = testing::scratch_dir("deep_config");
  std::ofstream(dir / "config.json") << "{\"model_type\": \"llama\", \"extra\": " << std::string(200000, '[')
                                     << std::string(200000, ']') << "}";
  try {
    load_model_config(dir);
    FAIL() << "a config nested 200000 levels loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find((dir / "config.json").string()), std::string::npos) << what;
    EXPECT_NE(what.find("deeper than " + std::to_string(kMaxJsonDepth)), std::string::npos) << what;
  }
}

// The table's checkpoint tensors tile the module's tensors exactly: every module tensor is
// pointed into, every element belongs to one checkpoint tensor, and no two overlap.
TEST(Architecture, TensorTableTilesTheModuleTensors) {
  for (const char* type : testing::kModelTypes) {
    auto config = testing::tiny_config(type);
    CausalLM model(config);
    std::map<std::string, int64_t> module_numel, covered;
    for (const auto& [name, t] : model_tensors(model)) module_numel[name] = t.numel();
    std::set<std::string> pointed;
    for (const auto& spec : tensor_table(config)) pointed.insert(spec.module_tensor());
    std::set<std::string> have;
    for (const auto& [name, n] : module_numel) have.insert(name);
    EXPECT_EQ(have, pointed) << type;
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : model_tensors(model)) t.zero_();
    for (auto& [name, view] : checkpoint_tensors(model)) view.add_(1.0);
    for (const auto& [name, t] : model_tensors(model))
      EXPECT_TRUE(torch::all(t == 1).item<bool>()) << type << ": " << name << " is not tiled exactly once";
  }
}

TEST(Architecture, FusedModuleTensorsKeepCheckpointNames) {
  auto config = testing::tiny_config("deepseek_v3");
  CausalLM model(config);
  std::set<std::string> names;
  for (const auto& [name, view] : checkpoint_tensors(model)) names.insert(name);
  EXPECT_TRUE(names.count("model.layers.1.mlp.experts.3.up_proj.weight"));
  EXPECT_TRUE(names.count("model.layers.0.mlp.gate_proj.weight"));
  auto qwen = testing::tiny_config("qwen2");
  CausalLM q(qwen);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : model_tensors(q)) t.zero_();
  for (auto& [name, view] : checkpoint_tensors(q))
    if (name == "model.layers.0.self_attn.k_proj.bias") view.fill_(7.0);
  const auto fused = q->named_parameters()["model.layers.0.self_attn.qkv_proj.bias"];
  const int64_t q_rows = qwen.num_attention_heads * qwen.head_dim, kv_rows = qwen.num_key_value_heads * qwen.head_dim;
  EXPECT_TRUE(torch::all(fused.narrow(0, q_rows, kv_rows) == 7).item<bool>());
  EXPECT_EQ(fused.narrow(0, 0, q_rows).abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace grpo::model

namespace grpo::model {
namespace {

TEST(ModelInfo, DeepseekV3CountsMatchThePublishedSizes) {
  // DeepSeek-V3: 671B total, 37B activated per token, MTP module 11.5B unique (README_WEIGHTS).
  auto c = parse_model_config({{"model_type", "deepseek_v3"}, {"num_nextn_predict_layers", 1}});
  auto info = describe_model(c);
  std::cout << format_model_info(info);
  EXPECT_NEAR(info.params_total / 1e9, 671.0, 1.0);
  EXPECT_NEAR(info.params_active / 1e9, 37.5, 1.0);
  EXPECT_NEAR(info.params_mtp / 1e9, 11.5, 0.5);
  EXPECT_EQ(info.cache_bytes_per_token, 70272);
}

}  // namespace
}  // namespace grpo::model
