// The rollout engine's route recording (routing replay, issue 23) on the fixtures' MoE models:
// each completion carries the experts of its prompt and of every completion token but the last,
// in every MoE layer, and they are the experts a full forward of the same tokens chooses; they
// survive continuous batching (fewer slots than samples, sequences moving between slots), and
// the layers stop recording when generate() returns (the learner may share them).
#include <gtest/gtest.h>

#include "model/io/model_io.h"
#include "rollout/engine.h"
#include "tests/common/fixtures.h"

namespace grpo::rollout {
namespace {

// The experts of every MoE layer for each token of `ids`, one forward: [tokens, layers, K], each
// token's K experts sorted (the engine's order of a token's experts is not specified).
torch::Tensor forward_routes(model::CausalLM& model, const std::vector<int64_t>& ids) {
  torch::NoGradGuard no_grad;
  const auto layers = model->moe_layers();
  const int64_t n = static_cast<int64_t>(ids.size()), k = model->config().num_experts_per_tok;
  auto buffer = torch::zeros({static_cast<int64_t>(layers.size()), n, k}, torch::kInt16);
  for (size_t l = 0; l < layers.size(); ++l) layers[l]->record_routes_into(buffer[static_cast<int64_t>(l)]);
  model::ForwardInput in;
  in.input_ids = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  model->forward(in);
  for (auto* moe : layers) moe->record_routes_into({});
  return std::get<0>(buffer.permute({1, 0, 2}).sort(-1));
}

TEST(RouteRecording, CompletionsCarryTheExpertsAFullForwardChoosesForEveryTokenButTheLast) {
  GRPO_REQUIRE_FIXTURES("models");
  int moe_models = 0;
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto model = model::load_model(dir);
    const auto layers = static_cast<int64_t>(model->moe_layers().size());
    if (layers == 0) continue;
    ++moe_models;
    EngineOptions options;
    options.slots = 3;  // 2 prompts x 3 samples: the second group waits for free slots
    options.max_len = 40;
    RolloutEngine engine(model, options);
    engine.record_routes();
    std::vector<GenerationRequest> requests(2);
    for (size_t r = 0; r < requests.size(); ++r) {
      requests[r].prompt_ids = r == 0 ? std::vector<int64_t>{3, 17, 42, 8, 99} : std::vector<int64_t>{250, 7, 61};
      requests[r].n = 3;
      requests[r].max_new_tokens = 12;
      requests[r].sampling.temperature = 1.0;
      requests[r].stop_token_ids = {5, 9, 11, 13};  // some samples stop early, freeing slots
    }
    const auto result = engine.generate(requests, 1234);
    for (auto* moe : model->moe_layers()) EXPECT_FALSE(moe->records_routes());
    int64_t compared = 0;
    for (size_t r = 0; r < requests.size(); ++r)
      for (const auto& c : result.completions[r]) {
        const auto& routes = c.routes;
        const int64_t prompt = static_cast<int64_t>(requests[r].prompt_ids.size());
        const int64_t completion = static_cast<int64_t>(c.token_ids.size());
        ASSERT_EQ(routes.layers, layers) << dir;
        ASSERT_EQ(routes.top_k, model->config().num_experts_per_tok) << dir;
        ASSERT_EQ(routes.tokens(), prompt + completion - 1) << dir;
        auto ids = requests[r].prompt_ids;
        ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end() - 1);
        const auto expected = forward_routes(model, ids);
        const auto got = std::get<0>(
            torch::tensor(std::vector<int64_t>(routes.expert_ids.begin(), routes.expert_ids.end()))
                .view({routes.tokens(), layers, routes.top_k})
                .to(torch::kInt16)
                .sort(-1));
        EXPECT_TRUE(torch::equal(got, expected)) << dir << ": request " << r;
        compared += routes.tokens();
      }
    EXPECT_GT(compared, 30) << dir;
  }
  EXPECT_GT(moe_models, 0) << "no MoE fixture";
}

TEST(RouteRecording, OffByDefaultAndEmptyForADenseModel) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto model = model::load_model(dir);
    EngineOptions options;
    options.slots = 2;
    options.max_len = 16;
    RolloutEngine engine(model, options);
    if (model->moe_layers().empty()) engine.record_routes();  // on for a dense model: nothing to record
    GenerationRequest q;
    q.prompt_ids = {3, 4, 5};
    q.n = 2;
    q.max_new_tokens = 4;
    const auto result = engine.generate({q}, 1);
    for (const auto& c : result.completions[0]) {
      EXPECT_TRUE(c.routes.expert_ids.empty()) << dir;
      EXPECT_EQ(c.routes.tokens(), 0) << dir;
    }
  }
}

}  // namespace
}  // namespace grpo::rollout
