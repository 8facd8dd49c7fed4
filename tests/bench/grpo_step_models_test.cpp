// The GRPO step benchmark's models (bench/rl/grpo_step_models.h): default LoRA targets per
// architecture that model::attach_lora accepts, trainable parameters Σ r·(in + out) over the
// adapted tensors with float32 optimizer state for them alone (the base stays in bf16), the KL
// reference the trainer would use (the policy with its adapters off for LoRA, a frozen copy of
// the initial policy otherwise), a merged engine copy generating what the adapters' decode path
// generates, and random models built in bf16 equal to the float32 build rounded.
#include <c10/core/DefaultDtype.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bench/common/model_shapes.h"
#include "bench/rl/grpo_step_models.h"
#include "core/config/config_io.h"
#include "core/error.h"
#include "model/lora/lora_adapters.h"
#include "rl/stage/stage_loop.h"
#include "rollout/engine.h"

using namespace grpo;

namespace {

// The tiny shape (MLA without q LoRA, layer 1 MoE) with `changes` applied.
model::ModelConfig tiny_config(const nlohmann::json& changes = nlohmann::json::object()) {
  auto json = bench::shape_config("tiny");
  json.update(changes);
  return model::parse_model_config(json, "<tiny>");
}

// A two-layer Qwen2 (dense GQA) small enough to build in a test.
model::ModelConfig small_qwen_config() {
  return model::parse_model_config({{"model_type", "qwen2"}, {"vocab_size", 64}, {"hidden_size", 32},
                                    {"intermediate_size", 48}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                                    {"num_key_value_heads", 2}, {"tie_word_embeddings", true}},
                                   "<small qwen>");
}

int64_t parameter_count(model::CausalLM& m) {
  int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  return n;
}

model::LoraSettings lora_of_rank(int64_t rank) { return bench::lora_settings(rank, 0, "", tiny_config()); }

rl::SequenceBatch four_sequences(int64_t vocab) {
  torch::manual_seed(11);
  std::vector<std::vector<int64_t>> prompts, completions;
  for (int64_t i = 0; i < 4; ++i) {
    const auto p = torch::randint(0, vocab, {3 + i}, torch::kInt64), c = torch::randint(0, vocab, {5 - i}, torch::kInt64);
    prompts.emplace_back(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + p.numel());
    completions.emplace_back(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  }
  return rl::make_sequence_batch(prompts, completions, torch::kCPU);
}

// Gives every adapter a nonzero B, so that the adapted policy differs from its base.
void move_adapters(model::CausalLM& policy) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  for (const auto& adapter : model::lora_adapters(policy)) adapter.slice->b.normal_(0.0, 0.5);
}

}  // namespace

TEST(GrpoStepModels, DefaultLoraTargetsAreEveryProjectionTheArchitectureCanAdapt) {
  const std::vector<std::string> dense = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  EXPECT_EQ(bench::default_lora_targets(small_qwen_config()), dense);
  EXPECT_EQ(bench::default_lora_targets(model::parse_model_config(bench::shape_config("qwen7b"), "qwen7b")), dense);
  // MLA with a MoE layer: no MLP names (the experts carry them and cannot be adapted).
  EXPECT_EQ(bench::default_lora_targets(tiny_config()), (std::vector<std::string>{"q_proj", "kv_a_proj_with_mqa", "o_proj"}));
  EXPECT_EQ(bench::default_lora_targets(model::parse_model_config(bench::shape_config("moe-mla"), "moe-mla")),
            (std::vector<std::string>{"q_proj", "kv_a_proj_with_mqa", "o_proj"}));
  EXPECT_EQ(bench::default_lora_targets(tiny_config({{"q_lora_rank", 8}})),
            (std::vector<std::string>{"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "o_proj"}));
  EXPECT_EQ(bench::default_lora_targets(tiny_config({{"n_routed_experts", 0}})),
            (std::vector<std::string>{"q_proj", "kv_a_proj_with_mqa", "o_proj", "gate_proj", "up_proj", "down_proj"}));
}

TEST(GrpoStepModels, DefaultLoraTargetsAttachOnEveryLayerOfTheirArchitecture) {
  const std::vector<model::ModelConfig> configs = {small_qwen_config(), tiny_config(), tiny_config({{"q_lora_rank", 8}}),
                                                   tiny_config({{"n_routed_experts", 0}})};
  for (const auto& config : configs) {
    model::CausalLM m(config);
    const auto settings = bench::lora_settings(2, 0, "", config);
    const auto adapted = model::attach_lora(m, settings);
    EXPECT_EQ(adapted.size(), settings.targets.size() * static_cast<size_t>(config.num_hidden_layers));
  }
}

TEST(GrpoStepModels, LoraSettingsFollowTheOptions) {
  EXPECT_FALSE(bench::lora_settings(0, 0, "", tiny_config()).enabled());
  EXPECT_THROW(bench::lora_settings(0, 0, "q_proj", tiny_config()), Error);
  EXPECT_THROW(bench::lora_settings(-1, 0, "", tiny_config()), Error);
  const auto s = bench::lora_settings(8, 0, " q_proj, o_proj ", tiny_config());
  EXPECT_EQ(s.targets, (std::vector<std::string>{"q_proj", "o_proj"}));
  EXPECT_DOUBLE_EQ(s.alpha, 16.0);  // 2 x rank
  EXPECT_DOUBLE_EQ(bench::lora_settings(8, 4, "", tiny_config()).alpha, 4.0);
}

TEST(GrpoStepModels, LoraTrainsRankTimesInPlusOutParametersAndTheOptimizerHoldsOnlyThem) {
  // tiny: hidden 64, 4 heads; q_proj 64 -> 4 x (16 + 8) = 96, kv_a_proj_with_mqa 64 -> 16 + 8 = 24,
  // o_proj 4 x 16 = 64 -> 64. Per layer r·((64 + 96) + (64 + 24) + (64 + 64)) = 376·r; 2 layers.
  const int64_t rank = 4, expected = 2 * 376 * rank;
  auto base = bench::random_model("tiny", torch::kCPU, torch::kFloat32, 0);
  auto policy = bench::build_policy("tiny", torch::kCPU, torch::kFloat32, lora_of_rank(rank), false);
  rl::StageOptimizer optimizer(policy, config::defaults<rl::OptimSettings>(), 1);
  const auto s = bench::trainable_state(policy, optimizer);
  EXPECT_EQ(s.trainable_params, expected);
  EXPECT_EQ(s.frozen_params, parameter_count(base));
  EXPECT_EQ(s.master_bytes, 4 * expected);
  EXPECT_EQ(s.optimizer_state_bytes, 16 * expected);  // master, its gradient, two moments: float32 each
}

TEST(GrpoStepModels, LoraKeepsTheBaseInBf16WithoutFloat32Masters) {
  const int64_t rank = 4, adapters = 2 * 376 * rank;
  auto policy = bench::build_policy("tiny", torch::kCPU, torch::kBFloat16, lora_of_rank(rank), false);
  rl::StageOptimizer optimizer(policy, config::defaults<rl::OptimSettings>(), 1, torch::kBFloat16);
  const auto s = bench::trainable_state(policy, optimizer);
  for (const auto& p : policy->parameters()) EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(s.weight_bytes, 2 * (s.frozen_params + adapters));
  EXPECT_EQ(s.master_bytes, 4 * adapters);
  EXPECT_TRUE(optimizer.masters().mixed());
}

TEST(GrpoStepModels, FullFineTuningTrainsEveryParameter) {
  auto policy = bench::build_policy("tiny", torch::kCPU, torch::kFloat32, model::LoraSettings{}, false);
  const int64_t all = parameter_count(policy);
  rl::StageOptimizer optimizer(policy, config::defaults<rl::OptimSettings>(), 1);
  const auto s = bench::trainable_state(policy, optimizer);
  EXPECT_EQ(s.trainable_params, all);
  EXPECT_EQ(s.frozen_params, 0);
  EXPECT_EQ(s.optimizer_state_bytes, 16 * all);
}

TEST(GrpoStepModels, NoReferenceWithoutKl) {
  auto policy = bench::build_policy("tiny", torch::kCPU, torch::kFloat32, model::LoraSettings{}, false);
  int copies = 0;
  bench::KlReference reference(policy, 0.0, [&] { ++copies; return bench::random_model("tiny", torch::kCPU, torch::kFloat32, 0); });
  EXPECT_FALSE(reference.enabled());
  EXPECT_EQ(copies, 0);
  EXPECT_EQ(reference.model_bytes(), 0);
}

TEST(GrpoStepModels, LoraReferenceIsThePolicyWithItsAdaptersOffAndBuildsNoModel) {
  auto policy = bench::build_policy("tiny", torch::kCPU, torch::kFloat32, lora_of_rank(4), false);
  int copies = 0;
  bench::KlReference reference(policy, 0.04, [&] { ++copies; return bench::random_model("tiny", torch::kCPU, torch::kFloat32, 0); });
  rl::GrpoLearner learner(policy, config::defaults<rl::GrpoSettings>(), config::defaults<rl::OptimSettings>(), 1.0, 8, 1);
  move_adapters(policy);
  const auto batch = four_sequences(policy->config().vocab_size);
  auto base = bench::random_model("tiny", torch::kCPU, torch::kFloat32, 0);
  const auto ref = reference.log_probs(learner, policy, batch);
  EXPECT_TRUE(reference.enabled());
  EXPECT_EQ(copies, 0);
  EXPECT_EQ(reference.model_bytes(), 0);
  EXPECT_TRUE(torch::allclose(ref, learner.score(base, batch), 1e-5, 1e-6));
  EXPECT_GT((ref - learner.score(policy, batch)).abs().max().item<double>(), 1e-3);  // the adapters matter
  EXPECT_TRUE(model::lora_adapters(policy).front().linear->lora_enabled());      // switched back on
}

TEST(GrpoStepModels, FullFineTuningReferenceIsAFrozenCopyOfTheInitialPolicy) {
  auto policy = bench::build_policy("tiny", torch::kCPU, torch::kFloat32, model::LoraSettings{}, false);
  int copies = 0;
  bench::KlReference reference(policy, 0.04, [&] { ++copies; return bench::random_model("tiny", torch::kCPU, torch::kFloat32, 0); });
  rl::GrpoLearner learner(policy, config::defaults<rl::GrpoSettings>(), config::defaults<rl::OptimSettings>(), 1.0, 8, 1);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : policy->parameters()) p.add_(torch::randn_like(p) * 0.05);  // the policy moves on
  }
  const auto batch = four_sequences(policy->config().vocab_size);
  auto initial = bench::random_model("tiny", torch::kCPU, torch::kFloat32, 0);
  const auto ref = reference.log_probs(learner, policy, batch);
  EXPECT_EQ(copies, 1);
  EXPECT_EQ(reference.model_bytes(), 4 * parameter_count(initial));
  EXPECT_TRUE(torch::allclose(ref, learner.score(initial, batch), 1e-5, 1e-6));
  EXPECT_GT((ref - learner.score(policy, batch)).abs().max().item<double>(), 1e-3);
}

TEST(GrpoStepModels, MergedEngineCopyGeneratesWhatTheAdaptersDecodePathGenerates) {
  auto policy = bench::build_policy("tiny", torch::kCPU, torch::kFloat32, lora_of_rank(4), false);
  move_adapters(policy);
  rollout::EngineOptions eo;
  eo.slots = 4;
  eo.max_len = 24;
  rollout::RolloutEngine colocated(policy, eo);
  eo.own_copy = true;
  rollout::RolloutEngine merged(policy, eo);
  ASSERT_NE(merged.policy().get(), policy.get());
  EXPECT_FALSE(model::has_lora(merged.policy()));
  std::vector<rollout::GenerationRequest> requests(3);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].prompt_ids = {static_cast<int64_t>(7 * i + 1), 40, static_cast<int64_t>(100 + i)};
    requests[i].max_new_tokens = 8;
    requests[i].sampling.temperature = 0;  // greedy
  }
  const auto base_only = merged.generate(requests, 1);  // the copy holds the base weights only
  rl::refresh_engine_weights(merged, policy);
  const auto expected = colocated.generate(requests, 1), got = merged.generate(requests, 1);
  int64_t base_differs = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto &e = expected.completions[i][0], &g = got.completions[i][0];
    EXPECT_EQ(g.token_ids, e.token_ids) << "request " << i;
    for (size_t t = 0; t < std::min(e.logprobs.size(), g.logprobs.size()); ++t)
      EXPECT_NEAR(g.logprobs[t], e.logprobs[t], 1e-4) << "request " << i << " token " << t;
    base_differs += base_only.completions[i][0].token_ids != e.token_ids;
  }
  EXPECT_GT(base_differs, 0);  // the adapters change what is generated
}

TEST(GrpoStepModels, RandomModelBuiltInBf16IsTheFloat32BuildRounded) {
  auto wide = bench::random_model("tiny", torch::kCPU, torch::kFloat32, 3);
  auto narrow = bench::random_model("tiny", torch::kCPU, torch::kBFloat16, 3);
  std::map<std::string, torch::Tensor> wide_params;
  for (const auto& p : wide->named_parameters()) wide_params[p.key()] = p.value();
  for (const auto& p : narrow->named_parameters()) {
    ASSERT_EQ(p.value().scalar_type(), torch::kBFloat16) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), wide_params.at(p.key()).to(torch::kBFloat16))) << p.key();
  }
  for (const auto& b : narrow->named_buffers())
    if (b.key().find("e_score_correction_bias") != std::string::npos) EXPECT_EQ(b.value().scalar_type(), torch::kFloat32);
  EXPECT_EQ(c10::get_default_dtype(), caffe2::TypeMeta::Make<float>());  // the build's default dtype is undone
}
