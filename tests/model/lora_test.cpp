// LoRA adapters (model/lora/): attaching by Hugging Face name (fused qkv/gate_up rows included),
// the frozen base, the disabled-adapter reference, merging, PEFT's file format, and the bad-input
// errors. Tiny random models of every architecture, and the qwen2 fixture for the reference check.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "model/arch/attention.h"
#include "model/arch/mixed_precision.h"
#include "model/io/model_io.h"
#include "model/io/safetensors.h"
#include "model/lora/lora_adapters.h"
#include "model/lora/merge.h"
#include "model/lora/peft_format.h"
#include "tests/common/error_of.h"
#include "tests/common/fixtures.h"
#include "tests/model/test_util.h"

namespace grpo::model {
namespace {

using grpo::testing::error_of;
using testing::tiny_config;

// The linear targets every tiny architecture supports (attention and, where dense, the MLP).
std::vector<std::string> supported_targets(const std::string& model_type) {
  if (model_type == "deepseek_v2") return {"q_proj", "kv_a_proj_with_mqa", "o_proj"};
  if (model_type == "deepseek_v3") return {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "o_proj"};
  return {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
}

CausalLM random_model(const std::string& model_type, uint64_t seed = 3) {
  CausalLM model(tiny_config(model_type));
  init_weights(model, seed, 0.2);
  return model;
}

LoraSettings settings_for(std::vector<std::string> targets, int64_t rank = 4) {
  LoraSettings s;
  s.targets = std::move(targets);
  s.rank = rank;
  s.alpha = 6.0;
  s.seed = 11;
  return s;
}

// B is zero after attaching; training would move it. Random B makes every adapter count.
void randomize_b(CausalLM& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (const auto& [linear, slice] : lora_adapters(model)) {
    auto b = slice->b;
    b.normal_(0.0, 0.3);
  }
}

torch::Tensor logits_of(CausalLM& model, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  ForwardInput in;
  in.input_ids = ids;
  return model->logits(model->forward(in).hidden);
}

torch::Tensor sample_ids(int64_t vocab) {
  torch::manual_seed(5);
  return torch::randint(0, vocab, {2, 7}, torch::kInt64);
}

TEST(Lora, ZeroInitialisedBLeavesLogitsUnchanged) {
  for (const auto* type : testing::kModelTypes) {
    auto model = random_model(type);
    const auto ids = sample_ids(model->config().vocab_size);
    const auto before = logits_of(model, ids);
    const auto attached = attach_lora(model, settings_for(supported_targets(type)));
    EXPECT_FALSE(attached.empty()) << type;
    EXPECT_TRUE(torch::equal(logits_of(model, ids), before)) << type;
  }
}

TEST(Lora, FusedQkvTargetAddsScaledLowRankUpdateToItsRowsOnly) {
  auto model = random_model("qwen2");
  const auto s = settings_for({"k_proj"}, 3);
  attach_lora(model, s);
  randomize_b(model, 2);
  auto* attn = dynamic_cast<GqaAttention*>(model->model->decoder[0]->self_attn.get());
  ASSERT_NE(attn, nullptr);
  auto& qkv = *attn->qkv_proj;
  ASSERT_EQ(qkv.lora().size(), 1u);
  const auto& slice = qkv.lora().front();
  EXPECT_EQ(slice.name, "model.layers.0.self_attn.k_proj");
  const int64_t q_rows = model->config().num_attention_heads * model->config().head_dim;
  const int64_t kv_rows = model->config().num_key_value_heads * model->config().head_dim;
  EXPECT_EQ(slice.row_offset, q_rows);
  EXPECT_EQ(slice.b.size(0), kv_rows);

  torch::NoGradGuard no_grad;
  torch::manual_seed(9);
  const auto x = torch::randn({2, 5, model->config().hidden_size});
  const auto base = torch::linear(x, qkv.weight, qkv.bias);
  // y = base(x) + x·Aᵀ·Bᵀ·(alpha / rank) on k's rows; q and v rows are the base's.
  auto expected = base.clone();
  expected.narrow(-1, q_rows, kv_rows) += torch::matmul(torch::matmul(x, slice.a.t()), slice.b.t()) * (6.0 / 3.0);
  const auto y = qkv.forward(x);
  EXPECT_LT((y - expected).abs().max().item<double>(), 1e-5);
  EXPECT_TRUE(torch::equal(y.narrow(-1, 0, q_rows), base.narrow(-1, 0, q_rows)));
  EXPECT_GT((y - base).abs().max().item<double>(), 1e-2);  // the adapter does contribute
}

TEST(Lora, OnlyAdaptersGetGradientsAndTheMastersHoldOnlyThem) {
  auto model = random_model("llama");
  attach_lora(model, settings_for({"q_proj", "v_proj", "down_proj"}));
  randomize_b(model, 4);
  int64_t adapter_numel = 0;
  for (const auto& [linear, slice] : lora_adapters(model)) adapter_numel += slice->a.numel() + slice->b.numel();
  MasterWeights masters(model);
  int64_t master_numel = 0;
  for (const auto& m : masters.masters()) master_numel += m.numel();
  EXPECT_EQ(master_numel, adapter_numel);

  ForwardInput in;
  in.input_ids = sample_ids(model->config().vocab_size);
  masters.backward(model->logits(model->forward(in).hidden).pow(2).mean());
  for (const auto& p : model->named_parameters()) {
    const bool adapter = p.key().find(".lora_") != std::string::npos;
    EXPECT_EQ(p.value().requires_grad(), adapter) << p.key();
    if (!adapter) {
      EXPECT_FALSE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) << p.key();
    }
  }
  for (const auto& [linear, slice] : lora_adapters(model)) {
    EXPECT_GT(slice->a.grad().abs().sum().item<double>(), 0) << slice->name;
    EXPECT_GT(slice->b.grad().abs().sum().item<double>(), 0) << slice->name;
  }
}

// Under a frozen embedding the first checkpointed layer's input needs no gradient; the adapters
// inside must still get exactly the plain backward's gradients (policy.lora with
// policy.gradient_checkpointing).
TEST(Lora, CheckpointedLayersGiveTheAdaptersThePlainBackwardsGradients) {
  for (const auto* type : testing::kModelTypes) {
    SCOPED_TRACE(type);
    auto model = random_model(type);
    attach_lora(model, settings_for(supported_targets(type)));
    randomize_b(model, 4);
    model->train();
    ForwardInput in;
    in.input_ids = sample_ids(model->config().vocab_size);
    std::vector<torch::Tensor> plain;
    for (const bool checkpointed : {false, true}) {
      model->zero_grad();
      model->set_activation_checkpointing(checkpointed);
      model->logits(model->forward(in).hidden).pow(2).mean().backward();
      size_t i = 0;
      for (const auto& [linear, slice] : lora_adapters(model))
        for (const auto& p : {slice->a, slice->b}) {
          ASSERT_TRUE(p.grad().defined()) << slice->name;
          if (!checkpointed) plain.push_back(p.grad().clone());
          else EXPECT_TRUE(torch::allclose(p.grad(), plain[i++], 1e-5, 1e-7)) << slice->name;
        }
    }
    EXPECT_GT(plain.front().abs().sum().item<double>(), 0);
  }
}

TEST(Lora, MergedWeightsGiveTheAdaptedLogits) {
  for (const auto* type : testing::kModelTypes) {
    auto model = random_model(type);
    attach_lora(model, settings_for(supported_targets(type)));
    randomize_b(model, 6);
    const auto ids = sample_ids(model->config().vocab_size);
    const auto adapted = logits_of(model, ids);
    {
      LoraDisabled base(model);
      EXPECT_GT((logits_of(model, ids) - adapted).abs().max().item<double>(), 1e-3) << type;
    }
    // A plain model of the same config receiving the merged weights (the rollout copy's path).
    auto copy = random_model(type, 99);
    for (auto& [name, t] : model_tensors(copy)) {
      torch::NoGradGuard no_grad;
      for (auto& [src_name, src] : model_tensors(model))
        if (src_name == name) t.copy_(src);
    }
    publish_merged_lora(copy, model);
    EXPECT_LT((logits_of(copy, ids) - adapted).abs().max().item<double>(), 1e-5) << type;
    merge_lora_(model);
    EXPECT_LT((logits_of(model, ids) - adapted).abs().max().item<double>(), 1e-5) << type;
  }
}

TEST(Lora, PeftFormatRoundTripIsExact) {
  const auto dir = testing::scratch_dir("lora_peft");
  auto model = random_model("qwen2");
  attach_lora(model, settings_for({"q_proj", "v_proj", "up_proj"}));
  randomize_b(model, 8);
  save_adapter(model, "/models/base", dir);

  const auto file = SafetensorsFile::open(dir / kAdapterWeightsFile);
  const int64_t hidden = model->config().hidden_size, q_rows = model->config().num_attention_heads * model->config().head_dim;
  const auto* a = file->find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  const auto* b = file->find("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{4, hidden}));
  EXPECT_EQ(b->shape, (std::vector<int64_t>{q_rows, 4}));
  EXPECT_EQ(file->entries().size(), 2u * 3u * static_cast<size_t>(model->config().num_hidden_layers));

  const auto config = read_adapter_config(dir);
  EXPECT_EQ(config.base_model, "/models/base");
  EXPECT_EQ(config.settings.rank, 4);
  EXPECT_DOUBLE_EQ(config.settings.scaling(), 6.0 / 4.0);
  EXPECT_EQ(config.settings.targets, (std::vector<std::string>{"q_proj", "up_proj", "v_proj"}));
  std::ifstream in(dir / kAdapterConfigFile);
  const auto js = nlohmann::json::parse(in);
  EXPECT_EQ(js.at("peft_type"), "LORA");
  EXPECT_EQ(js.at("task_type"), "CAUSAL_LM");
  EXPECT_EQ(js.at("bias"), "none");

  auto loaded = random_model("qwen2");
  load_adapter(loaded, dir);
  const auto ours = lora_adapters(model), theirs = lora_adapters(loaded);
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].slice->name, theirs[i].slice->name);
    EXPECT_TRUE(torch::equal(ours[i].slice->a, theirs[i].slice->a)) << ours[i].slice->name;
    EXPECT_TRUE(torch::equal(ours[i].slice->b, theirs[i].slice->b)) << ours[i].slice->name;
    EXPECT_EQ(ours[i].slice->scaling, theirs[i].slice->scaling);
  }
  remove_tree(dir);
}

TEST(Lora, DisabledAdaptersGiveTheSeparatelyLoadedBaseModel) {
  GRPO_REQUIRE_FIXTURES("models");
  const auto dir = grpo::testing::fixtures_root() / "models" / "qwen2-tiny";
  auto base = load_model(dir);
  auto policy = load_model(dir);
  attach_lora(policy, settings_for({"q_proj", "k_proj", "o_proj", "gate_proj", "down_proj"}, 2));
  randomize_b(policy, 10);
  const auto ids = sample_ids(policy->config().vocab_size);
  const auto reference = logits_of(base, ids);
  EXPECT_GT((logits_of(policy, ids) - reference).abs().max().item<double>(), 1e-3);
  {
    LoraDisabled off(policy);
    EXPECT_TRUE(torch::equal(logits_of(policy, ids), reference));
  }
  EXPECT_GT((logits_of(policy, ids) - reference).abs().max().item<double>(), 1e-3);  // back on
}

TEST(Lora, TargetMatchingNoLayerListsTheLayerNames) {
  auto model = random_model("llama");
  const auto message = error_of([&] { attach_lora(model, settings_for({"q_proj", "qkv"})); });
  EXPECT_NE(message.find("'qkv' matches no linear layer"), std::string::npos) << message;
  EXPECT_NE(message.find("down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj"), std::string::npos) << message;
}

TEST(Lora, RankOutsideTheLayerIsAnErrorNamingTheKey) {
  auto model = random_model("llama");
  const auto zero = error_of([&] { attach_lora(model, settings_for({"q_proj"}, 0)); });
  EXPECT_NE(zero.find("policy.lora.rank must be >= 1"), std::string::npos) << zero;
  auto other = random_model("llama");
  // k_proj is [kv_heads·head_dim = 16, hidden = 32]: rank 17 cannot fit.
  const auto big = error_of([&] { attach_lora(other, settings_for({"k_proj"}, 17)); });
  EXPECT_NE(big.find("policy.lora.rank 17 exceeds model.layers.0.self_attn.k_proj's min(in, out) = 16"),
            std::string::npos)
      << big;
}

TEST(Lora, RoutedExpertsAndAbsorbedProjectionsAreRefusedSayingWhy) {
  auto v2 = random_model("deepseek_v2");
  const auto experts = error_of([&] { attach_lora(v2, settings_for({"gate_proj"})); });
  EXPECT_NE(experts.find("routed experts are stacked tensors"), std::string::npos) << experts;
  auto v3 = random_model("deepseek_v3");
  const auto kv_b = error_of([&] { attach_lora(v3, settings_for({"kv_b_proj"})); });
  EXPECT_NE(kv_b.find("absorbs kv_b_proj"), std::string::npos) << kv_b;
}

TEST(Lora, AdapterForAnotherShapeNamesTheTensor) {
  const auto dir = testing::scratch_dir("lora_shape");
  auto small = random_model("llama");
  attach_lora(small, settings_for({"q_proj"}, 4));
  save_adapter(small, "base", dir);
  auto ranked = random_model("llama");
  attach_lora(ranked, settings_for({"q_proj"}, 2));
  const auto message = error_of([&] { load_adapter_weights(ranked, dir); });
  EXPECT_NE(message.find("'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [4, 32], this "
                         "model's is [2, 32]"),
            std::string::npos)
      << message;
  remove_tree(dir);
}

}  // namespace
}  // namespace grpo::model
