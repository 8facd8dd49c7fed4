// LoRA adapters (model/lora/): attaching by Hugging Face name (fused qkv/gate_up rows included),
// the frozen base, the disabled-adapter reference, merging, PEFT's file format, and the bad-input
// errors; on DeepSeek models the shared experts, kv_b_proj and every routed expert's own adapters.
// Tiny random models of every architecture, the qwen2 fixture for the reference check and the
// DeepSeek fixtures for the expert adapters.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/arch/attention.h"
#include "model/arch/mixed_precision.h"
#include "model/arch/moe.h"
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

// Every target each tiny architecture supports: attention and MLPs; on DeepSeek also kv_b_proj,
// the shared experts (gate/up/down_proj) and the routed experts.
std::vector<std::string> supported_targets(const std::string& model_type) {
  const std::vector<std::string> moe = {"kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                                        "experts.gate_proj", "experts.up_proj", "experts.down_proj"};
  auto with = [&moe](std::vector<std::string> queries) {
    queries.insert(queries.end(), moe.begin(), moe.end());
    return queries;
  };
  if (model_type == "deepseek_v2") return with({"q_proj"});
  if (model_type == "deepseek_v3") return with({"q_a_proj", "q_b_proj"});
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
  for (const auto& adapter : lora_adapters(model)) {
    auto b = adapter.slice->b;
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
  for (const auto& adapter : lora_adapters(model)) adapter_numel += adapter.slice->a.numel() + adapter.slice->b.numel();
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
  for (const auto& adapter : lora_adapters(model)) {
    EXPECT_GT(adapter.slice->a.grad().abs().sum().item<double>(), 0) << adapter.slice->name;
    EXPECT_GT(adapter.slice->b.grad().abs().sum().item<double>(), 0) << adapter.slice->name;
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
      for (const auto& adapter : lora_adapters(model))
        for (const auto& p : {adapter.slice->a, adapter.slice->b}) {
          ASSERT_TRUE(p.grad().defined()) << adapter.slice->name;
          if (!checkpointed) plain.push_back(p.grad().clone());
          else EXPECT_TRUE(torch::allclose(p.grad(), plain[i++], 1e-5, 1e-7)) << adapter.slice->name;
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

// The file holds tensor `name` shaped `shape`.
void expect_tensor_shape(const SafetensorsFile& file, const std::string& name, const std::vector<int64_t>& shape) {
  const auto* entry = file.find(name);
  ASSERT_NE(entry, nullptr) << name;
  EXPECT_EQ(entry->shape, shape) << name;
}

// A random model of `model_type` with adapters on `targets` (B random), saved into `dir`.
CausalLM saved_adapter(const std::string& model_type, const std::vector<std::string>& targets, uint64_t seed,
                       const std::filesystem::path& dir) {
  auto model = random_model(model_type);
  attach_lora(model, settings_for(targets));
  randomize_b(model, seed);
  save_adapter(model, "/models/base", dir);
  return model;
}

// `dir`'s adapter loaded into a fresh model of `model_type` holds exactly `saved`'s adapters.
void expect_loaded_adapters_equal(CausalLM& saved, const std::string& model_type, const std::filesystem::path& dir) {
  auto loaded = random_model(model_type);
  load_adapter(loaded, dir);
  const auto ours = lora_adapters(saved), theirs = lora_adapters(loaded);
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].slice->name, theirs[i].slice->name);
    EXPECT_TRUE(torch::equal(ours[i].slice->a, theirs[i].slice->a)) << ours[i].slice->name;
    EXPECT_TRUE(torch::equal(ours[i].slice->b, theirs[i].slice->b)) << ours[i].slice->name;
    EXPECT_EQ(ours[i].slice->scaling, theirs[i].slice->scaling);
  }
}

TEST(Lora, PeftFormatRoundTripIsExact) {
  const auto dir = testing::scratch_dir("lora_peft");
  auto model = saved_adapter("qwen2", {"q_proj", "v_proj", "up_proj"}, 8, dir);

  const auto file = SafetensorsFile::open(dir / kAdapterWeightsFile);
  const int64_t hidden = model->config().hidden_size, q_rows = model->config().num_attention_heads * model->config().head_dim;
  expect_tensor_shape(*file, "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", {4, hidden});
  expect_tensor_shape(*file, "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", {q_rows, 4});
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

  expect_loaded_adapters_equal(model, "qwen2", dir);
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

TEST(Lora, DecodeReadProjectionsAreRefusedWithAdaptersInTheDecodePath) {
  // gate_proj matches layer 0's dense MLP (adaptable either way), then layer 1's shared experts.
  for (const std::string target : {"gate_proj", "kv_b_proj", "experts.up_proj"}) {
    auto v2 = random_model("deepseek_v2");
    auto s = settings_for({target});
    s.rollout = "adapters";
    const auto message = error_of([&] { attach_lora(v2, s); });
    EXPECT_NE(message.find("policy.lora.targets: '" + target + "' matches model.layers."), std::string::npos) << message;
    EXPECT_NE(message.find("directly, past an adapter; set policy.lora.rollout: merged"), std::string::npos) << message;
  }
}

// x·Wᵀ plus, on rows [offset, offset + rows) of each expert's output, x·A[e]ᵀ·B[e]ᵀ·scaling.
torch::Tensor expert_rows_by_hand(const torch::Tensor& x, const torch::Tensor& w, const LoraSlice& s, int64_t e) {
  auto y = torch::matmul(x, w[e].t());
  y.narrow(-1, s.row_offset, s.b.size(1)) += torch::matmul(torch::matmul(x, s.a[e].t()), s.b[e].t()) * s.scaling;
  return y;
}

TEST(Lora, EveryRoutedExpertGetsItsOwnAdapterAndOnlyRoutedOnesGetGradients) {
  auto model = random_model("deepseek_v3");
  const auto attached = attach_lora(model, settings_for({"experts.up_proj", "experts.down_proj"}));
  EXPECT_EQ(attached, (std::vector<std::string>{"model.layers.1.mlp.experts.up_proj", "model.layers.1.mlp.experts.down_proj"}));
  randomize_b(model, 12);
  auto& experts = *model->moe_layers().front()->experts;
  ASSERT_EQ(experts.gate_up_lora().size(), 1u);
  ASSERT_EQ(experts.down_lora().size(), 1u);
  const auto& up = experts.gate_up_lora().front();
  const auto& down = experts.down_lora().front();
  const int64_t inter = model->config().moe_intermediate_size, hidden = model->config().hidden_size;
  EXPECT_EQ(up.row_offset, inter);  // up's rows follow gate's in gate_up_proj
  EXPECT_EQ(up.a.sizes(), (c10::IntArrayRef{8, 4, hidden}));
  EXPECT_EQ(up.b.sizes(), (c10::IntArrayRef{8, inter, 4}));
  EXPECT_EQ(down.a.sizes(), (c10::IntArrayRef{8, 4, inter}));

  // Rows sorted by expert; experts 1, 3, 5 and 6 get none.
  torch::manual_seed(13);
  const auto x = torch::randn({12, hidden});
  const std::vector<int64_t> ends = {3, 3, 5, 5, 9, 9, 9, 12};
  const auto y = experts.forward(x, torch::tensor(ends, torch::kInt32));
  int64_t begin = 0;
  for (int64_t e = 0; e < 8; ++e) {
    const auto xe = x.narrow(0, begin, ends[e] - begin);
    begin = ends[e];
    if (xe.size(0) == 0) continue;
    const auto act = swiglu_activation(expert_rows_by_hand(xe, experts.gate_up_proj, up, e));
    const auto expected = expert_rows_by_hand(act, experts.down_proj, down, e);
    EXPECT_LT((y.narrow(0, ends[e] - xe.size(0), xe.size(0)) - expected).abs().max().item<double>(), 1e-5) << e;
  }
  y.pow(2).sum().backward();
  for (const auto* slice : {&up, &down})
    for (int64_t e = 0; e < 8; ++e) {
      const bool routed = e == 0 || e == 2 || e == 4 || e == 7;
      for (const auto& grad : {slice->a.grad()[e], slice->b.grad()[e]})
        EXPECT_EQ(grad.abs().sum().item<double>() > 0, routed) << slice->name << " expert " << e;
    }
}

TEST(Lora, ExpertAdaptersMergeIntoTheDeepSeekFixtures) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const std::string name : {"deepseek-v3-tiny", "deepseek-v2-lite-tiny"}) {
    SCOPED_TRACE(name);
    const auto dir = grpo::testing::fixtures_root() / "models" / name;
    auto policy = load_model(dir);
    auto targets = supported_targets(policy->config().q_lora_rank > 0 ? "deepseek_v3" : "deepseek_v2");
    attach_lora(policy, settings_for(targets));
    randomize_b(policy, 14);
    const auto ids = sample_ids(policy->config().vocab_size);
    const auto adapted = logits_of(policy, ids);
    auto engine_copy = load_model(dir);  // the rollout's merged copy: the base, then the merge
    EXPECT_GT((logits_of(engine_copy, ids) - adapted).abs().max().item<double>(), 1e-3);
    publish_merged_lora(engine_copy, policy);
    EXPECT_LT((logits_of(engine_copy, ids) - adapted).abs().max().item<double>(), 1e-5);
    merge_lora_(policy);
    EXPECT_LT((logits_of(policy, ids) - adapted).abs().max().item<double>(), 1e-5);
  }
}

TEST(Lora, ExpertAdaptersRoundTripAsOnePeftModulePerExpert) {
  const auto dir = testing::scratch_dir("lora_peft_experts");
  auto model = saved_adapter("deepseek_v2", {"gate_proj", "experts.gate_proj", "experts.down_proj"}, 15, dir);

  const auto file = SafetensorsFile::open(dir / kAdapterWeightsFile);
  const int64_t hidden = model->config().hidden_size, inter = model->config().moe_intermediate_size;
  expect_tensor_shape(*file, "base_model.model.model.layers.1.mlp.experts.3.gate_proj.lora_A.weight", {4, hidden});
  expect_tensor_shape(*file, "base_model.model.model.layers.1.mlp.experts.3.gate_proj.lora_B.weight", {inter, 4});
  expect_tensor_shape(*file, "base_model.model.model.layers.1.mlp.experts.7.down_proj.lora_B.weight", {hidden, 4});
  EXPECT_TRUE(torch::equal(file->tensor("base_model.model.model.layers.1.mlp.experts.3.gate_proj.lora_A.weight"),
                           model->moe_layers().front()->experts->gate_up_lora().front().a[3]));
  // dense gate_proj (layer 0) and the shared experts' (layer 1), then 8 experts x 2 projections
  EXPECT_EQ(file->entries().size(), 2u * (2u + 8u * 2u));
  std::ifstream in(dir / kAdapterConfigFile);
  const auto target_modules = nlohmann::json::parse(in).at("target_modules").get<std::vector<std::string>>();
  EXPECT_EQ(target_modules.size(), 1u + 8u * 2u);  // PEFT matches experts.3.gate_proj against one expert
  EXPECT_NE(std::find(target_modules.begin(), target_modules.end(), "experts.3.gate_proj"), target_modules.end());
  EXPECT_EQ(read_adapter_config(dir).settings.targets,
            (std::vector<std::string>{"experts.down_proj", "experts.gate_proj", "gate_proj"}));

  expect_loaded_adapters_equal(model, "deepseek_v2", dir);
  remove_tree(dir);
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
