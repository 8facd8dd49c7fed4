// MoE routing on the fixtures' DeepSeek checkpoints (V2: softmax, group-limited greedy; V3:
// sigmoid, bias, renormalized): router health (shares summing to 1, the CV by its formula, a
// forced-dead expert and the bias norm on V3), and routing replay (recorded routes taken back give the
// recorded experts even after the router moved, -1 routes a token itself, and the router still
// gets a gradient through the replayed experts' weights).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "model/arch/router_health.h"
#include "model/io/model_io.h"
#include "tests/common/fixtures.h"

namespace grpo::model {
namespace {

std::vector<CausalLM> moe_fixtures() {
  std::vector<CausalLM> out;
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto m = load_model(dir);
    if (!m->moe_layers().empty()) out.push_back(m);
  }
  return out;
}

// Two rows, the second with 3 padding tokens.
ForwardInput padded_input(const CausalLM& model) {
  torch::manual_seed(7);
  ForwardInput in;
  in.input_ids = torch::randint(0, model->config().vocab_size, {2, 9}, torch::kInt64);
  in.attention_mask = torch::tensor({{1, 1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 0, 0, 0}}, torch::kInt64);
  return in;
}

TEST(RouterHealth, SharesCvAndDeadExpertsByHand) {
  // Shares .25 0 .75 0 around the mean .25: deviations 0 -.25 .5 -.25, variance .375 / 4,
  // CV = sqrt(.09375) / .25 = 1.2247449.
  const auto h = router_health(torch::tensor({{2, 0, 6, 0}, {0, 0, 0, 0}}), {3, 5}, "router/rollout/");
  EXPECT_EQ(h.histograms.at("router/rollout/layer3/expert_load"), (std::vector<double>{0.25, 0.0, 0.75, 0.0}));
  EXPECT_NEAR(h.metrics.at("router/rollout/layer3/load_cv"), 1.2247449, 1e-7);
  EXPECT_EQ(h.metrics.at("router/rollout/layer3/dead_experts"), 2.0);
  EXPECT_EQ(h.histograms.count("router/rollout/layer5/expert_load"), 0u);  // a layer that saw no token
  EXPECT_THROW(router_health(torch::zeros({2, 4}), {1}, "router/"), Error);
}

TEST(RouterHealth, LearnerHealthCountsRealTokensAndFindsAForcedDeadExpert) {
  GRPO_REQUIRE_FIXTURES("models");
  const auto models = moe_fixtures();
  ASSERT_FALSE(models.empty()) << "no MoE fixture";
  for (auto model : models) {
    torch::NoGradGuard no_grad;
    auto* first = model->moe_layers().front();
    const bool v3 = first->gate->e_score_correction_bias.defined();
    // V3: expert 3 of the first MoE layer can never be chosen, its bias far below every other
    // expert's score (sigmoid: in (0, 1)). (V2's softmax has no input-independent handle.)
    if (v3) first->gate->e_score_correction_bias[3] = -10.0;
    auto in = padded_input(model);
    in.record_router_stats = true;
    model->forward(in);
    std::vector<torch::Tensor> loads;
    for (auto* moe : model->moe_layers()) loads.push_back(moe->expert_load().clone());
    const auto health = take_router_health(*model);
    const auto indices = moe_layer_indices(*model);
    for (size_t i = 0; i < indices.size(); ++i) {
      const std::string prefix = "router/layer" + std::to_string(indices[i]) + "/";
      const auto& share = health.histograms.at(prefix + "expert_load");
      const auto load = loads[i].to(torch::kFloat64);
      EXPECT_EQ(load.sum().item<double>(), 15.0 * model->config().num_experts_per_tok);  // 15 real tokens x K
      double sum = 0;
      for (double s : share) sum += s;
      EXPECT_NEAR(sum, 1.0, 1e-12);
      const auto expected_share = load / load.sum();
      const double cv = (expected_share.std(/*unbiased=*/false) / expected_share.mean()).item<double>();
      EXPECT_NEAR(health.metrics.at(prefix + "load_cv"), cv, 1e-12);
      EXPECT_EQ(health.metrics.at(prefix + "dead_experts"), (load == 0).sum().item<double>());
      EXPECT_EQ(model->moe_layers()[i]->expert_load().sum().item<int64_t>(), 0);  // reset
    }
    const std::string first_prefix = "router/layer" + std::to_string(indices[0]) + "/";
    if (v3) {
      EXPECT_EQ(health.histograms.at(first_prefix + "expert_load")[3], 0.0);
      EXPECT_GE(health.metrics.at(first_prefix + "dead_experts"), 1.0);
      const double norm = first->gate->e_score_correction_bias.norm().item<double>();
      EXPECT_NEAR(health.metrics.at(first_prefix + "bias_norm"), norm, 1e-6);
      EXPECT_GE(norm, 10.0);
    } else {
      EXPECT_EQ(health.metrics.count(first_prefix + "bias_norm"), 0u);
    }
  }
}

// Records the first MoE layer's routes of `in`'s forward: [tokens, K] int16.
torch::Tensor recorded_routes(CausalLM& model, const ForwardInput& in) {
  auto* moe = model->moe_layers().front();
  const auto k = model->config().num_experts_per_tok;
  auto buffer = torch::full({in.input_ids.numel(), k}, -7, torch::kInt16);
  moe->record_routes_into(buffer);
  model->forward(in);
  moe->record_routes_into({});
  return buffer;
}

TEST(RoutingReplay, ReplayedRoutesOverrideAMovedRouterAndKeepItsGradient) {
  GRPO_REQUIRE_FIXTURES("models");
  for (auto model : moe_fixtures()) {
    const auto in = padded_input(model);
    auto* moe = model->moe_layers().front();
    torch::Tensor before;
    {
      torch::NoGradGuard no_grad;
      before = recorded_routes(model, in);
      EXPECT_EQ((before == -7).sum().item<int64_t>(), 0);  // every row written
      moe->gate->weight.add_(torch::randn_like(moe->gate->weight) * 0.5);  // the router moves
    }
    const auto fresh = recorded_routes(model, in);
    ASSERT_GT((std::get<0>(fresh.sort(1)) != std::get<0>(before.sort(1))).sum().item<int64_t>(), 0)
        << "the perturbation should change some token's experts";
    // Replay the first recording, except token 0, which routes itself.
    auto replay = before.to(torch::kInt64);
    replay[0].fill_(-1);
    moe->replay_routes(replay);
    auto buffer = torch::zeros_like(before);
    moe->record_routes_into(buffer);
    auto hidden = model->forward(in).hidden;
    moe->record_routes_into({});
    moe->replay_routes({});
    EXPECT_TRUE(torch::equal(buffer.slice(0, 1), before.slice(0, 1)));
    EXPECT_TRUE(torch::equal(buffer[0], fresh[0]));
    hidden.pow(2).sum().backward();
    ASSERT_TRUE(moe->gate->weight.grad().defined());
    EXPECT_GT(moe->gate->weight.grad().abs().sum().item<double>(), 0.0);
  }
}

TEST(RoutingReplay, ReplayOfTheWrongTokenCountIsAnError) {
  GRPO_REQUIRE_FIXTURES("models");
  for (auto model : moe_fixtures()) {
    torch::NoGradGuard no_grad;
    auto* moe = model->moe_layers().front();
    moe->replay_routes(torch::zeros({5, model->config().num_experts_per_tok}, torch::kInt64));
    try {
      model->forward(padded_input(model));
      FAIL() << "a replay of 5 tokens was taken for 18";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected replayed experts [18, "), std::string::npos) << e.what();
    }
    moe->replay_routes({});
  }
}

}  // namespace
}  // namespace grpo::model
