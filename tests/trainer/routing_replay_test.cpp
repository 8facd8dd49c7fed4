// Routing replay from the rollout to the learner on the fixtures' MoE checkpoints: the learner's
// forwards (padded and packed) take exactly the experts the rollout recorded for every token it
// recorded, even when the learner's router has moved; the rollout/learner log-prob mismatch
// falls when routing is what differs; bad records and a dense policy are errors naming what
// is wrong. End to end, `grpo rl` on a small DeepSeek-V3-shaped policy with replay on carries the
// routes from the rollout to the learner and logs router health and the mismatch per step.
#include <gtest/gtest.h>

#include <cstdio>

#include <fstream>

#include "core/config/config_io.h"
#include "core/error.h"
#include "core/run_store.h"
#include "model/io/model_io.h"
#include "rl/algorithms/logprob_mismatch.h"
#include "rl/trainer/grpo_learner.h"
#include "rl/trainer/grpo_trainer.h"
#include "rl/trainer/routing_replay.h"
#include "rollout/engine.h"
#include "tests/common/fixtures.h"
#include "tests/trainer/tiny_world.h"

namespace grpo::rl {
namespace {

std::vector<std::filesystem::path> moe_fixture_dirs() {
  std::vector<std::filesystem::path> out;
  for (const auto& dir : grpo::testing::fixture_dirs("models"))
    if (!model::load_model(dir)->moe_layers().empty()) out.push_back(dir);
  return out;
}

// Two prompts x 3 samples at temperature 1 from `model`, routes recorded.
struct Rollout {
  std::vector<std::vector<int64_t>> prompts, completions;
  std::vector<std::vector<float>> logprobs;
  std::vector<rollout::TokenRoutes> routes;
};

Rollout roll_out(model::CausalLM model, std::optional<torch::Dtype> dtype = std::nullopt) {
  rollout::EngineOptions options;
  options.slots = 6;
  options.max_len = 48;
  options.dtype = dtype;
  rollout::RolloutEngine engine(model, options);
  engine.record_routes();
  std::vector<rollout::GenerationRequest> requests(2);
  requests[0].prompt_ids = {3, 17, 42, 8, 99, 12};
  requests[1].prompt_ids = {250, 7, 61};
  for (auto& q : requests) {
    q.n = 3;
    q.max_new_tokens = 24;
    q.sampling.temperature = 1.0;
  }
  const auto result = engine.generate(requests, 99);
  Rollout out;
  for (size_t r = 0; r < requests.size(); ++r)
    for (const auto& c : result.completions[r]) {
      out.prompts.push_back(requests[r].prompt_ids);
      out.completions.push_back(c.token_ids);
      out.logprobs.push_back(c.logprobs);
      out.routes.push_back(c.routes);
    }
  return out;
}

std::vector<const rollout::TokenRoutes*> pointers(const Rollout& r) {
  std::vector<const rollout::TokenRoutes*> out;
  for (const auto& routes : r.routes) out.push_back(&routes);
  return out;
}

// Moves every MoE router of `model` by noise of relative size `scale`: enough to change some
// tokens' experts, little enough to leave the rest of the function nearly alone.
void perturb_routers(model::CausalLM& model, double scale, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto* moe : model->moe_layers()) {
    auto& w = moe->gate->weight;
    w.add_(torch::randn_like(w) * w.abs().mean() * scale);
  }
}

// Log-probs of the completions under `learner`, with or without the rollout's routes, and the
// mean |Δ log p| against the rollout's.
double mean_abs_mismatch(model::CausalLM& learner, const Rollout& r, bool replay) {
  torch::NoGradGuard no_grad;
  const auto batch = make_sequence_batch(r.prompts, r.completions, torch::kCPU);
  const auto routes = replay ? replayed_routes(pointers(r), batch, *learner) : torch::Tensor();
  RouteReplay scope(learner, routes, batch, SequenceLayout::kPadded);
  const auto lp = completion_logprobs(learner, batch, 1.0).logprobs;
  auto rollout_lp = torch::zeros_like(lp);
  for (size_t i = 0; i < r.logprobs.size(); ++i)
    rollout_lp[static_cast<int64_t>(i)].narrow(0, 0, static_cast<int64_t>(r.logprobs[i].size())).copy_(torch::tensor(r.logprobs[i]));
  LogprobMismatch mismatch;
  mismatch.add(lp, rollout_lp, batch.completion_mask);
  return mismatch.metrics().at("mismatch/abs_logp_mean").item<double>();
}

TEST(RoutingReplay, LearnerRoutesEqualTheRolloutsForEveryRecordedTokenPaddedAndPacked) {
  GRPO_REQUIRE_FIXTURES("models");
  const auto dirs = moe_fixture_dirs();
  ASSERT_FALSE(dirs.empty()) << "no MoE fixture";
  for (const auto& dir : dirs) {
    const auto rollout = roll_out(model::load_model(dir));
    auto learner = model::load_model(dir);
    perturb_routers(learner, 0.5, 1);  // fresh routing would differ
    const auto batch = make_sequence_batch(rollout.prompts, rollout.completions, torch::kCPU);
    const auto routes = replayed_routes(pointers(rollout), batch, *learner);
    const auto layers = learner->moe_layers();
    const int64_t k = learner->config().num_experts_per_tok;
    for (const auto layout : {SequenceLayout::kPadded, SequenceLayout::kPacked}) {
      int64_t tokens = 0;
      for (size_t i = 0; i < rollout.prompts.size(); ++i)
        tokens += static_cast<int64_t>(rollout.prompts[i].size() + rollout.completions[i].size());
      if (layout == SequenceLayout::kPadded) tokens = batch.rows() * batch.input_ids.size(1);
      auto seen = torch::full({static_cast<int64_t>(layers.size()), tokens, k}, -2, torch::kInt16);
      for (size_t l = 0; l < layers.size(); ++l) layers[l]->record_routes_into(seen[static_cast<int64_t>(l)]);
      {
        RouteReplay scope(learner, routes, batch, layout);
        completion_logprobs(learner, batch, 1.0, layout);
      }
      for (auto* moe : layers) moe->record_routes_into({});
      int64_t start = 0, compared = 0;
      for (int64_t i = 0; i < batch.rows(); ++i) {
        const auto& record = rollout.routes[static_cast<size_t>(i)];
        const int64_t recorded = record.tokens();
        const auto expected = torch::tensor(std::vector<int64_t>(record.expert_ids.begin(), record.expert_ids.end()))
                                  .view({recorded, static_cast<int64_t>(layers.size()), k})
                                  .permute({1, 0, 2});
        const auto got = seen.narrow(1, start, recorded).to(torch::kInt64);
        EXPECT_TRUE(torch::equal(got, expected)) << dir << " row " << i << (layout == SequenceLayout::kPacked ? " packed" : " padded");
        compared += recorded;
        start += layout == SequenceLayout::kPadded
                     ? batch.input_ids.size(1)
                     : static_cast<int64_t>(rollout.prompts[i].size() + rollout.completions[i].size());
      }
      EXPECT_GT(compared, 50) << dir;
      for (auto* moe : layers) moe->replay_routes({});
    }
  }
}

TEST(RoutingReplay, MismatchFallsWhenTheLearnersRoutingDiffers) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : moe_fixture_dirs()) {
    const auto rollout = roll_out(model::load_model(dir));
    auto learner = model::load_model(dir);
    EXPECT_LT(mean_abs_mismatch(learner, rollout, false), 1e-4) << dir << ": same weights, same precision";
    perturb_routers(learner, 0.05, 2);  // a router a few updates away: some tokens flip experts
    const double fresh = mean_abs_mismatch(learner, rollout, false);
    const double replayed = mean_abs_mismatch(learner, rollout, true);
    std::printf("%s: router moved 5%%: mean |dlogp| fresh routing %.3e, replayed %.3e\n", dir.filename().c_str(), fresh,
                replayed);
    EXPECT_LT(replayed, 0.5 * fresh) << dir;
    // bf16 rollout against the float32 learner, as a mixed-precision run has them.
    const auto bf16_rollout = roll_out(model::load_model(dir), torch::kBFloat16);
    auto fp32_learner = model::load_model(dir);
    const double bf16_fresh = mean_abs_mismatch(fp32_learner, bf16_rollout, false);
    const double bf16_replayed = mean_abs_mismatch(fp32_learner, bf16_rollout, true);
    std::printf("%s: bf16 rollout, fp32 learner: mean |dlogp| fresh routing %.3e, replayed %.3e\n",
                dir.filename().c_str(), bf16_fresh, bf16_replayed);
    EXPECT_LE(bf16_replayed, bf16_fresh * 1.01) << dir;
  }
}

TEST(RoutingReplay, BadRecordsNameTheLayerOrTheCounts) {
  GRPO_REQUIRE_FIXTURES("models");
  const auto dir = moe_fixture_dirs().at(0);
  auto model = model::load_model(dir);
  const auto rollout = roll_out(model);
  const auto batch = make_sequence_batch(rollout.prompts, rollout.completions, torch::kCPU);
  const auto indices = model::moe_layer_indices(*model);
  auto expect_error = [&](std::vector<rollout::TokenRoutes> records, const std::string& needle) {
    std::vector<const rollout::TokenRoutes*> ptrs;
    for (const auto& r : records) ptrs.push_back(&r);
    try {
      replayed_routes(ptrs, batch, *model);
      FAIL() << "expected an error containing " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto records = rollout.routes;
  records[1].expert_ids.back() = static_cast<int16_t>(model->config().n_routed_experts);  // last token, last layer
  expect_error(records, "row 1: MoE layer " + std::to_string(indices.back()) + " has a recorded expert id outside [0, " +
                            std::to_string(model->config().n_routed_experts) + ")");
  records = rollout.routes;
  records[2].layers += 1;
  records[2].expert_ids.resize(static_cast<size_t>(records[2].tokens() * records[2].layers * records[2].top_k));
  expect_error(records, "row 2: the rollout recorded " + std::to_string(indices.size() + 1) + " MoE layers, the policy has " +
                            std::to_string(indices.size()));
}

TEST(RoutingReplay, ReplayOnADensePolicyIsAnErrorNamingTheKey) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto model = model::load_model(dir);
    if (!model->moe_layers().empty()) continue;
    auto rl = config::defaults<GrpoSettings>();
    rl.moe_routing_replay = "rollout";
    try {
      GrpoLearner learner(model, rl, config::defaults<OptimSettings>(), 1.0, 16, 1);
      FAIL() << dir << ": a dense policy took routing replay";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("rl.moe_routing_replay: rollout needs a MoE policy"), std::string::npos)
          << e.what();
    }
    return;
  }
  FAIL() << "no dense fixture";
}

// A DeepSeek-V3-shaped policy over the tiny world's tokenizer (vocab 320): one dense layer, one
// MoE layer of 8 experts (top-2 in 2 of 4 groups, sigmoid scores, a correction bias), random.
std::filesystem::path tiny_moe_policy(const std::filesystem::path& dir) {
  const auto& w = grpo::testing::tiny_world();
  std::filesystem::create_directories(dir / "config");
  std::ofstream(dir / "config" / "config.json") << R"({"architectures": ["DeepseekV3ForCausalLM"],
 "model_type": "deepseek_v3", "vocab_size": 320, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
 "num_attention_heads": 4, "num_key_value_heads": 4, "max_position_embeddings": 128, "rms_norm_eps": 1e-06,
 "kv_lora_rank": 16, "q_lora_rank": 24, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 8,
 "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2, "moe_intermediate_size": 16,
 "first_k_dense_replace": 1, "n_group": 4, "topk_group": 2, "norm_topk_prob": true, "routed_scaling_factor": 2.5,
 "num_nextn_predict_layers": 0, "tie_word_embeddings": false, "rope_theta": 10000.0, "torch_dtype": "float32"})";
  model::CausalLM policy(model::load_model_config(dir / "config"));
  model::init_weights(policy, 5, 0.2);
  model::SaveOptions so;
  so.source_dir = w.teacher;  // its tokenizer
  model::save_model(policy, dir / "policy", so);
  return dir / "policy";
}

TEST(RoutingReplay, GrpoCarriesRoutesToTheLearnerAndLogsRouterHealthEveryStep) {
  const auto& w = grpo::testing::tiny_world();
  const auto dir = grpo::testing::fresh_dir("moe-replay");
  const auto cfg = grpo::testing::load_yaml(dir, "rl.yaml",
      "run: {seed: 3, device: cpu, dtype: float32, log_level: warn, threads: 1}\n"
      "policy: {path: " + tiny_moe_policy(dir).string() + ", template: raw}\n"
      "data: {train: {path: " + w.train_jsonl.string() + "}}\n"
      "rollout: {max_new_tokens: 6, temperature: 1.0, max_batch_sequences: 16}\n"
      "rewards: [{name: math_accuracy, weight: 1.0}]\n"
      "rl: {group_size: 4, batch_size: 8, micro_batch_size: 3, moe_routing_replay: rollout}\n"
      "optim: {lr: 0.001}\n"
      "train: {steps: 2, save_every: 0, log_samples: 0}\n");
  RunRequest request;
  request.run_dir = (dir / "run").string();
  auto copy = cfg;
  request.config_text = config::to_yaml(copy);
  const std::filesystem::path run = run_grpo(cfg, request);
  RunStoreReader store((run / "run.db").string());
  for (const std::string name : {"router/layer1/expert_load", "router/rollout/layer1/expert_load"}) {
    const auto series = store.histogram_series(name);
    ASSERT_EQ(series.size(), 2u) << name;
    for (const auto& [step, shares] : series) {
      ASSERT_EQ(shares.size(), 8u) << name;
      double sum = 0;
      for (double s : shares) sum += s;
      EXPECT_NEAR(sum, 1.0, 1e-12) << name << " step " << step;
    }
  }
  for (const std::string name : {"router/layer1/load_cv", "router/layer1/dead_experts", "router/layer1/bias_norm",
                                 "router/rollout/layer1/load_cv", "mismatch/abs_logp_max"})
    EXPECT_EQ(store.metric_series(name).size(), 2u) << name;
  // Same weights, same precision, the same experts: what is left of the mismatch is the decode's
  // reduction order.
  for (const auto& point : store.metric_series("mismatch/abs_logp_mean")) EXPECT_LT(point.value, 1e-4);
}

}  // namespace
}  // namespace grpo::rl
