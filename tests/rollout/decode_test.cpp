// The GPU-speed pieces of the rollout engine, checked on CPU against the plain model: the
// host-free decode step (with padding rows and masked extra keys, as a CUDA graph bucket runs it)
// and the host-free prefill (padded rows and tokens, used slots) equal a full forward, dense-expert MoE decode equals the MoE module, graph buckets cover what
// they must, and an engine running its own copy in another dtype follows the learner after
// refresh_weights without reallocating.
#include <gtest/gtest.h>

#include "model/io/model_io.h"
#include "rollout/decode_forward.h"
#include "rollout/bucket_graphs.h"
#include "rollout/engine.h"
#include "tests/common/fixtures.h"

using namespace grpo;

namespace {

rollout::EngineOptions engine_options(int64_t slots, int64_t max_len) {
  rollout::EngineOptions o;
  o.slots = slots;
  o.max_len = max_len;
  return o;
}

std::vector<std::vector<int64_t>> greedy(rollout::RolloutEngine& engine, const std::vector<std::vector<int64_t>>& prompts) {
  std::vector<rollout::GenerationRequest> requests;
  for (const auto& p : prompts) {
    rollout::GenerationRequest q;
    q.prompt_ids = p;
    q.max_new_tokens = 8;
    q.sampling.temperature = 0.0;
    requests.push_back(q);
  }
  const auto result = engine.generate(requests, 0);
  std::vector<std::vector<int64_t>> out;
  for (const auto& c : result.completions) out.push_back(c[0].token_ids);
  return out;
}

// Logits of the last position of each prompt, from a plain forward without a cache.
torch::Tensor last_logits(model::CausalLM& m, const std::vector<int64_t>& ids) {
  model::ForwardInput in;
  in.input_ids = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  return m->logits(m->forward(in).hidden)[0][-1];
}

}  // namespace

TEST(DecodeForward, PaddedRowsAndMaskedKeysGiveTheFullForwardLogits) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto m = model::load_model(dir);
    torch::NoGradGuard no_grad;
    const std::vector<std::vector<int64_t>> prompts = {{5, 9, 33, 71, 2, 8}, {11, 42, 7}};
    const std::vector<int64_t> next = {17, 23};
    const int64_t slots = 4, max_len = 16;
    model::InferenceCache cache(m->config(), slots, max_len, torch::TensorOptions().dtype(torch::kFloat32));
    auto tokens = torch::zeros({slots}, torch::kInt64), lengths = torch::zeros({slots}, torch::kInt64);
    for (int64_t s = 0; s < 2; ++s) {  // prefill slots 0 and 1
      model::ForwardInput in;
      in.input_ids = torch::tensor(prompts[s], torch::kInt64).unsqueeze(0);
      in.cache = &cache;
      in.cache_slots = torch::tensor(std::vector<int64_t>{s}, torch::kInt64);
      m->forward(in);
      tokens[s] = next[s];
      lengths[s] = static_cast<int64_t>(prompts[s].size());
    }
    lengths[3] = max_len;  // a padding row on a slot at capacity writes the scratch row
    for (bool dense : {false, true}) {
      rollout::DecodeForward step(m, &cache);
      if (dense) step.use_dense_moe();
      auto logits = torch::zeros({slots, m->config().vocab_size}, torch::kFloat32);
      step.run(tokens, lengths, /*rows=*/4, /*key_len=*/max_len, logits);
      for (int64_t s = 0; s < 2; ++s) {
        auto ids = prompts[s];
        ids.push_back(next[s]);
        EXPECT_TRUE(torch::allclose(logits[s], last_logits(m, ids), 1e-4, 1e-4))
            << dir.filename() << " slot " << s << (dense ? " dense MoE" : "");
      }
    }
  }
}

// A prefill as a graph bucket runs it: two prompts into non-consecutive slots that hold an
// earlier sequence's rows, padded with padding tokens after each prompt and with a row of no real
// token on slot 0, where a live sequence runs. Each row's last hidden state must give the full
// forward's logits, and decoding from the cache must too, for the new sequences and the live one.
TEST(DecodeForward, PaddedPrefillIntoUsedSlotsGivesTheFullForwardLogits) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto m = model::load_model(dir);
    torch::NoGradGuard no_grad;
    const std::vector<std::vector<int64_t>> prompts = {{5, 9, 33, 71, 2, 8}, {11, 42, 7}, {4, 6, 8, 10}};
    const std::vector<int64_t> slot_of = {3, 1, 0}, next = {17, 23, 29};
    const int64_t slots = 4, max_len = 16, rows = 3, len = 8;
    model::InferenceCache cache(m->config(), slots, max_len, torch::TensorOptions().dtype(torch::kFloat32));
    for (auto* group : {&cache.keys(), &cache.values(), &cache.latents()})
      for (auto t : *group) t.normal_();  // an earlier sequence's rows
    model::ForwardInput live;  // the sequence running in slot 0
    live.input_ids = torch::tensor(prompts[2], torch::kInt64).unsqueeze(0);
    live.cache = &cache;
    live.cache_slots = torch::zeros({1}, torch::kInt64);
    m->forward(live);

    rollout::DecodeForward forward(m, &cache);
    auto flat = torch::zeros({rollout::PrefillInputs::numel(rows, len)}, torch::kInt64);
    const auto in = rollout::PrefillInputs::view(flat, rows, len);  // row 2: no real token, slot 0
    for (size_t i = 0; i < 2; ++i) {
      const int64_t n = static_cast<int64_t>(prompts[i].size());
      in.ids[i].narrow(0, 0, n).copy_(torch::tensor(prompts[i], torch::kInt64));
      in.ids[i].narrow(0, n, len - n).fill_(99);  // padding tokens: any id
      in.valid[i].narrow(0, 0, n).fill_(1);
      in.slots[i] = slot_of[i];
      in.last[i] = n - 1;
    }
    in.ids[2].fill_(99);
    auto hidden = torch::zeros({slots, m->config().hidden_size}, torch::kFloat32);
    forward.prefill(in, hidden);
    auto logits = m->logits(hidden);
    auto tokens = torch::zeros({slots}, torch::kInt64), lengths = torch::zeros({slots}, torch::kInt64);
    for (size_t i = 0; i < prompts.size(); ++i) {
      if (i < 2)
        EXPECT_TRUE(torch::allclose(logits[i], last_logits(m, prompts[i]), 1e-4, 1e-4)) << dir.filename() << " row " << i;
      tokens[slot_of[i]] = next[i];
      lengths[slot_of[i]] = static_cast<int64_t>(prompts[i].size());
    }
    auto step_logits = torch::zeros({slots, m->config().vocab_size}, torch::kFloat32);
    forward.run(tokens, lengths, slots, max_len, step_logits);
    for (size_t i = 0; i < prompts.size(); ++i) {
      auto ids = prompts[i];
      ids.push_back(next[i]);
      EXPECT_TRUE(torch::allclose(step_logits[slot_of[i]], last_logits(m, ids), 1e-4, 1e-4))
          << dir.filename() << " decode after the prefill, slot " << slot_of[i];
    }
  }
}

TEST(AllExpertsForward, EqualsTheMoeModule) {
  GRPO_REQUIRE_FIXTURES("models");
  int checked = 0;
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto m = model::load_model(dir);
    torch::NoGradGuard no_grad;
    for (auto* moe : m->moe_layers()) {
      torch::manual_seed(3);
      auto x = torch::randn({7, m->config().hidden_size}, torch::kFloat32);
      model::ForwardContext ctx;
      EXPECT_TRUE(torch::allclose(model::all_experts_forward(*moe, x), moe->forward(x, ctx).hidden, 1e-5, 1e-5))
          << dir.filename();
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no fixture model has MoE layers";
}

TEST(BucketGraphs, BucketsCoverTheBatchAndStayInBounds) {
  EXPECT_EQ(rollout::bucket_rows(1, 256), 1);
  EXPECT_EQ(rollout::bucket_rows(5, 256), 8);
  EXPECT_EQ(rollout::bucket_rows(129, 256), 256);
  EXPECT_EQ(rollout::bucket_rows(129, 200), 200);
  EXPECT_EQ(rollout::bucket_keys(1, 384), 64);
  EXPECT_EQ(rollout::bucket_keys(129, 384), 192);
  EXPECT_EQ(rollout::bucket_keys(383, 384), 384);
  EXPECT_EQ(rollout::bucket_keys(100, 90), 90);
}

TEST(RolloutEngine, OwnDtypeCopyFollowsTheLearnerAfterRefreshInPlace) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto learner = model::load_model(dir);
    const std::vector<std::vector<int64_t>> prompts = {{5, 9, 33, 71, 2}, {11, 42, 7}};
    auto options = engine_options(2, 24);
    rollout::RolloutEngine colocated(learner, options);
    options.dtype = torch::kFloat64;
    rollout::RolloutEngine copy(learner, options);
    ASSERT_NE(copy.policy().get(), learner.get());
    EXPECT_EQ(copy.policy()->output_weight().scalar_type(), torch::kFloat64);
    EXPECT_EQ(greedy(copy, prompts), greedy(colocated, prompts)) << dir.filename();

    std::vector<const void*> before;
    for (const auto& p : copy.policy()->parameters()) before.push_back(p.data_ptr());
    model::init_weights(learner, 11, 0.5);  // new weights, so greedy output changes
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
