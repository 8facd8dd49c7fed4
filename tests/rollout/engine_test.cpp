// The rollout engine against references it did not compute: greedy completions equal the
// fixtures' transformers continuations, continuous batching equals generating each request
// alone, returned log-probs equal a full forward's, the first sampled token follows the
// model's softmax(logits / T), and a seed fixes the samples. Also: CUDA graph buckets cover what
// they must, and an engine running its own copy in another dtype follows the learner after
// refresh_weights without reallocating. (The host-free forwards it runs are tested with the
// model, tests/model/cached_forward_test.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/torch/device.h"
#include "model/io/model_io.h"
#include "model/io/safetensors.h"
#include "rollout/bucket_graphs.h"
#include "rollout/engine.h"
#include "tests/common/fixtures.h"

using grpo::rollout::GenerationRequest;
using grpo::rollout::RolloutEngine;

namespace {

torch::Tensor fixture_tensor(const std::filesystem::path& dir, const std::string& name) {
  auto file = grpo::model::SafetensorsFile::open(dir / "expected.safetensors");
  return file->tensor(name).clone();
}

std::vector<int64_t> row(const torch::Tensor& t, int64_t i) {
  auto r = t[i].contiguous();
  return {r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()};
}

grpo::rollout::EngineOptions engine_options(int64_t slots, int64_t max_len) {
  grpo::rollout::EngineOptions o;
  o.slots = slots;
  o.max_len = max_len;
  return o;
}

GenerationRequest greedy_request(std::vector<int64_t> prompt, int64_t new_tokens) {
  GenerationRequest q;
  q.prompt_ids = std::move(prompt);
  q.max_new_tokens = new_tokens;
  q.sampling.temperature = 0.0;
  return q;
}

// The first sample's greedy tokens for each prompt (8 new tokens).
std::vector<std::vector<int64_t>> greedy(RolloutEngine& engine, const std::vector<std::vector<int64_t>>& prompts) {
  std::vector<GenerationRequest> requests;
  for (const auto& p : prompts) requests.push_back(greedy_request(p, 8));
  const auto result = engine.generate(requests, 0);
  std::vector<std::vector<int64_t>> out;
  for (const auto& c : result.completions) out.push_back(c[0].token_ids);
  return out;
}

}  // namespace

TEST(RolloutEngine, GreedyMatchesTransformersForEveryFixtureModel) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto model = grpo::model::load_model(dir);
    const auto prompts = fixture_tensor(dir, "greedy_prompt");
    const auto expected = fixture_tensor(dir, "greedy_ids");
    const int64_t new_tokens = expected.size(1) - prompts.size(1);
    RolloutEngine engine(model, engine_options(8, expected.size(1) + 1));
    std::vector<GenerationRequest> requests;
    for (int64_t i = 0; i < prompts.size(0); ++i) requests.push_back(greedy_request(row(prompts, i), new_tokens));
    const auto result = engine.generate(requests, 0);
    for (int64_t i = 0; i < prompts.size(0); ++i) {
      const auto want = row(expected, i);
      const std::vector<int64_t> tail(want.begin() + prompts.size(1), want.end());
      EXPECT_EQ(result.completions[i][0].token_ids, tail) << dir.filename() << " prompt " << i;
    }
  }
}

TEST(RolloutEngine, ContinuousBatchingEqualsGeneratingAlone) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto model = grpo::model::load_model(dir);
    std::vector<GenerationRequest> requests;
    for (int i = 0; i < 5; ++i) {
      std::vector<int64_t> prompt;
      for (int t = 0; t < 3 + 2 * i; ++t) prompt.push_back((17 * i + 5 * t + 3) % 900 + 2);
      auto q = greedy_request(prompt, 4 + 3 * (i % 3));
      q.n = 1 + i % 2;
      requests.push_back(q);
    }
    // Three slots for eight sequences: requests wait, finish at different times and free slots.
    RolloutEngine shared(model, engine_options(3, 32));
    const auto together = shared.generate(requests, 0);
    for (size_t r = 0; r < requests.size(); ++r) {
      RolloutEngine alone(model, engine_options(2, 32));
      const auto single = alone.generate({requests[r]}, 0);
      for (size_t s = 0; s < together.completions[r].size(); ++s)
        EXPECT_EQ(together.completions[r][s].token_ids, single.completions[0][0].token_ids)
            << dir.filename() << " request " << r << " sample " << s;
    }
  }
}

// Each group is reported once, as soon as its last sample finishes and while longer groups still
// decode, with the completions generate() then returns.
TEST(RolloutEngine, GroupDoneReportsEachGroupWhenItsLastSampleFinishes) {
  GRPO_REQUIRE_FIXTURES("models");
  auto model = grpo::model::load_model(grpo::testing::fixture_dirs("models").front());
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < 4; ++i) {
    auto q = greedy_request({3, 5 + i, 7}, i == 0 ? 12 : 2 + i);  // request 0 runs longest
    q.n = 2;
    requests.push_back(q);
  }
  RolloutEngine engine(model, engine_options(8, 32));
  std::vector<size_t> order;
  std::vector<int64_t> tokens_when_done;
  std::map<size_t, std::vector<std::vector<int64_t>>> reported;
  int64_t generated = 0;
  const auto result = engine.generate(
      requests, 0, [&](int64_t tokens) { generated = tokens; },
      [&](size_t r, const std::vector<grpo::rollout::Completion>& completions) {
        order.push_back(r);
        tokens_when_done.push_back(generated);
        for (const auto& c : completions) reported[r].push_back(c.token_ids);
      });
  EXPECT_EQ(order, (std::vector<size_t>{1, 2, 3, 0}));  // shortest first, the long one last
  EXPECT_LT(tokens_when_done[0], result.stats.generated_tokens);  // before the rollout ended
  for (size_t r = 0; r < requests.size(); ++r) {
    ASSERT_EQ(reported[r].size(), 2u) << r;
    for (size_t s = 0; s < 2; ++s) EXPECT_EQ(reported[r][s], result.completions[r][s].token_ids) << r << " " << s;
  }
}

// Sequences that end on a stop token at different steps, with requests waiting for their slots.
// The host learns of a stop one step late (the engine enqueues step k before it reads step
// k - 1), so the stopped sequence's extra token must be dropped and the sequence that moves into
// its slot must keep its own tokens.
TEST(RolloutEngine, StopTokensFreeSlotsForWaitingRequestsWithoutMixingSequences) {
  GRPO_REQUIRE_FIXTURES("models");
  auto model = grpo::model::load_model(grpo::testing::fixture_dirs("models").front());
  std::vector<GenerationRequest> requests;
  std::vector<std::vector<int64_t>> alone;
  for (int i = 0; i < 6; ++i) {
    std::vector<int64_t> prompt;
    for (int t = 0; t < 2 + i; ++t) prompt.push_back((29 * i + 7 * t + 11) % 700 + 2);
    auto q = greedy_request(prompt, 10);
    // Stop on the token the sequence greedily produces at step 1 + i % 4, where it first appears.
    RolloutEngine single(model, engine_options(1, 32));
    const auto free_run = single.generate({q}, 0).completions[0][0].token_ids;
    const int64_t stop = free_run.at(1 + i % 4);
    q.stop_token_ids = {stop};
    requests.push_back(q);
    alone.emplace_back(free_run.begin(), std::find(free_run.begin(), free_run.end(), stop) + 1);
  }
  RolloutEngine shared(model, engine_options(3, 32));
  const auto together = shared.generate(requests, 0);
  for (size_t r = 0; r < requests.size(); ++r) {
    EXPECT_EQ(together.completions[r][0].token_ids, alone[r]) << "request " << r;
    EXPECT_EQ(together.completions[r][0].finish_reason, grpo::rollout::FinishReason::kStop) << "request " << r;
    EXPECT_EQ(together.completions[r][0].logprobs.size(), alone[r].size()) << "request " << r;
  }
}

TEST(RolloutEngine, LogprobsEqualAFullForward) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto model = grpo::model::load_model(dir);
    GenerationRequest q;
    q.prompt_ids = {5, 9, 33, 71, 2};
    q.n = 3;
    q.max_new_tokens = 10;
    q.sampling.temperature = 0.8;
    RolloutEngine engine(model, engine_options(4, 32));
    const auto result = engine.generate({q}, 123);
    torch::NoGradGuard no_grad;
    for (const auto& c : result.completions[0]) {
      std::vector<int64_t> ids = q.prompt_ids;
      ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end());
      grpo::model::ForwardInput in;
      in.input_ids = torch::tensor(ids, torch::kInt64).unsqueeze(0);
      auto logits = model->logits(model->forward(in).hidden)[0];
      auto logp = torch::log_softmax(logits.to(torch::kFloat32) / 0.8, -1);
      for (size_t j = 0; j < c.token_ids.size(); ++j) {
        const double want = logp[q.prompt_ids.size() - 1 + j][c.token_ids[j]].item<double>();
        EXPECT_NEAR(c.logprobs[j], want, 1e-4) << dir.filename() << " token " << j;
      }
    }
  }
}

TEST(RolloutEngine, FirstTokenFollowsTheModelDistribution) {
  GRPO_REQUIRE_FIXTURES("models");
  const auto dir = grpo::testing::fixture_dirs("models").front();
  auto model = grpo::model::load_model(dir);
  const std::vector<int64_t> prompt = {11, 42, 7};
  const double temperature = 1.5;
  GenerationRequest q;
  q.prompt_ids = prompt;
  q.n = 500;
  q.max_new_tokens = 1;
  q.sampling.temperature = temperature;
  q.sampling.top_k = 12;
  RolloutEngine engine(model, engine_options(500, 8));
  std::vector<double> counts(model->config().vocab_size, 0.0);
  for (int round = 0; round < 40; ++round) {  // 20,000 draws
    const auto result = engine.generate({q}, 1000 + round);
    for (const auto& c : result.completions[0]) counts[c.token_ids[0]] += 1;
  }
  torch::NoGradGuard no_grad;
  grpo::model::ForwardInput in;
  in.input_ids = torch::tensor(prompt, torch::kInt64).unsqueeze(0);
  auto logits = model->logits(model->forward(in).hidden)[0][-1].to(torch::kFloat64) / temperature;
  auto top = std::get<1>(logits.topk(12));
  auto probs = torch::softmax(logits.index_select(0, top), 0);
  double chi2 = 0, in_top = 0;
  for (int64_t i = 0; i < 12; ++i) {
    const int64_t token = top[i].item<int64_t>();
    const double expected = probs[i].item<double>() * 20000;
    chi2 += (counts[token] - expected) * (counts[token] - expected) / expected;
    in_top += counts[token];
  }
  EXPECT_EQ(in_top, 20000) << "a token outside the top-k was sampled";
  EXPECT_LT(chi2, 31.3);  // 99.9th percentile of chi-square with 11 degrees of freedom
}

TEST(RolloutEngine, SameSeedSameCompletionsAndStopTokensEndSequences) {
  GRPO_REQUIRE_FIXTURES("models");
  auto model = grpo::model::load_model(grpo::testing::fixture_dirs("models").front());
  GenerationRequest q;
  q.prompt_ids = {3, 4, 5};
  q.n = 6;
  q.max_new_tokens = 12;
  RolloutEngine engine(model, engine_options(6, 16));
  const auto a = engine.generate({q}, 77), b = engine.generate({q}, 77);
  for (int s = 0; s < 6; ++s) EXPECT_EQ(a.completions[0][s].token_ids, b.completions[0][s].token_ids);
  // Make the second token of sample 0 a stop token: that sample must end right there.
  const int64_t stop = a.completions[0][0].token_ids.at(1);
  q.stop_token_ids = {stop};
  const auto c = engine.generate({q}, 77);
  ASSERT_GE(c.completions[0][0].token_ids.size(), 1u);
  const auto& ids = c.completions[0][0].token_ids;
  EXPECT_EQ(std::count(ids.begin(), ids.end(), stop), 1);
  EXPECT_EQ(ids.back(), stop);
  EXPECT_EQ(c.completions[0][0].finish_reason, grpo::rollout::FinishReason::kStop);
}

TEST(BucketGraphs, BucketsCoverTheBatchAndStayInBounds) {
  EXPECT_EQ(grpo::rollout::bucket_rows(1, 256), 1);
  EXPECT_EQ(grpo::rollout::bucket_rows(5, 256), 8);
  EXPECT_EQ(grpo::rollout::bucket_rows(129, 256), 256);
  EXPECT_EQ(grpo::rollout::bucket_rows(129, 200), 200);
  EXPECT_EQ(grpo::rollout::bucket_keys(1, 384), 64);
  EXPECT_EQ(grpo::rollout::bucket_keys(129, 384), 192);
  EXPECT_EQ(grpo::rollout::bucket_keys(383, 384), 384);
  EXPECT_EQ(grpo::rollout::bucket_keys(100, 90), 90);
}

TEST(RolloutEngine, OwnDtypeCopyFollowsTheLearnerAfterRefreshInPlace) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto learner = grpo::model::load_model(dir);
    const std::vector<std::vector<int64_t>> prompts = {{5, 9, 33, 71, 2}, {11, 42, 7}};
    auto options = engine_options(2, 24);
    RolloutEngine colocated(learner, options);
    options.dtype = torch::kFloat64;
    RolloutEngine copy(learner, options);
    ASSERT_NE(copy.policy().get(), learner.get());
    EXPECT_EQ(copy.policy()->output_weight().scalar_type(), torch::kFloat64);
    EXPECT_EQ(greedy(copy, prompts), greedy(colocated, prompts)) << dir.filename();

    std::vector<const void*> before;
    for (const auto& p : copy.policy()->parameters()) before.push_back(p.data_ptr());
    grpo::model::init_weights(learner, 11, 0.5);  // new weights, so greedy output changes
    const auto stale = greedy(copy, prompts);
    copy.refresh_weights(learner);
    const auto fresh = greedy(copy, prompts);
    EXPECT_EQ(fresh, greedy(colocated, prompts)) << dir.filename();
    EXPECT_NE(fresh, stale) << dir.filename() << ": the new weights did not change the output";
    std::vector<const void*> after;
    for (const auto& p : copy.policy()->parameters()) after.push_back(p.data_ptr());
    EXPECT_EQ(before, after) << dir.filename() << ": refresh reallocated parameters";
  }
}
