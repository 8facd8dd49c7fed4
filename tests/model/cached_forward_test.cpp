// The engine's host-free forwards (cached_forward.h), checked on CPU against the plain model: a
// decode step with padding rows and masked extra keys, as a CUDA graph bucket runs it, with MoE
// layers through their module or every expert densely; and a prefill with padded rows and tokens
// into used slots. Each must give the logits of a full forward without a cache.
#include <gtest/gtest.h>

#include "model/arch/cached_forward.h"
#include "model/io/model_io.h"
#include "tests/common/fixtures.h"

namespace grpo::model {
namespace {

// Logits of the last position of `ids`, from a plain forward without a cache.
torch::Tensor last_logits(CausalLM& m, const std::vector<int64_t>& ids) {
  ForwardInput in;
  in.input_ids = torch::tensor(ids, torch::kInt64).unsqueeze(0);
  return m->logits(m->forward(in).hidden)[0][-1];
}

TEST(CachedForward, PaddedRowsAndMaskedKeysGiveTheFullForwardLogits) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto m = load_model(dir);
    torch::NoGradGuard no_grad;
    const std::vector<std::vector<int64_t>> prompts = {{5, 9, 33, 71, 2, 8}, {11, 42, 7}};
    const std::vector<int64_t> next = {17, 23};
    const int64_t slots = 4, max_len = 16;
    InferenceCache cache(m->config(), slots, max_len, torch::TensorOptions().dtype(torch::kFloat32));
    auto tokens = torch::zeros({slots}, torch::kInt64), lengths = torch::zeros({slots}, torch::kInt64);
    for (int64_t s = 0; s < 2; ++s) {  // prefill slots 0 and 1
      ForwardInput in;
      in.input_ids = torch::tensor(prompts[s], torch::kInt64).unsqueeze(0);
      in.cache = &cache;
      in.cache_slots = torch::tensor(std::vector<int64_t>{s}, torch::kInt64);
      m->forward(in);
      tokens[s] = next[s];
      lengths[s] = static_cast<int64_t>(prompts[s].size());
    }
    lengths[3] = max_len;  // a padding row on a slot at capacity writes the scratch row
    for (bool dense : {false, true}) {
      CachedForward step(m, &cache);
      if (dense) step.use_dense_moe();
      auto logits = torch::zeros({slots, m->config().vocab_size}, torch::kFloat32);
      step.decode(tokens, lengths, /*rows=*/4, /*key_len=*/max_len, logits);
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
TEST(CachedForward, PaddedPrefillIntoUsedSlotsGivesTheFullForwardLogits) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto m = load_model(dir);
    torch::NoGradGuard no_grad;
    const std::vector<std::vector<int64_t>> prompts = {{5, 9, 33, 71, 2, 8}, {11, 42, 7}, {4, 6, 8, 10}};
    const std::vector<int64_t> slot_of = {3, 1, 0}, next = {17, 23, 29};
    const int64_t slots = 4, max_len = 16, rows = 3, len = 8;
    InferenceCache cache(m->config(), slots, max_len, torch::TensorOptions().dtype(torch::kFloat32));
    for (auto* group : {&cache.keys(), &cache.values(), &cache.latents()})
      for (auto t : *group) t.normal_();  // an earlier sequence's rows
    ForwardInput live;  // the sequence running in slot 0
    live.input_ids = torch::tensor(prompts[2], torch::kInt64).unsqueeze(0);
    live.cache = &cache;
    live.cache_slots = torch::zeros({1}, torch::kInt64);
    m->forward(live);

    CachedForward forward(m, &cache);
    auto flat = torch::zeros({PrefillInputs::numel(rows, len)}, torch::kInt64);
    const auto in = PrefillInputs::view(flat, rows, len);  // row 2: no real token, slot 0
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
      if (i < 2) {
        EXPECT_TRUE(torch::allclose(logits[i], last_logits(m, prompts[i]), 1e-4, 1e-4)) << dir.filename() << " row " << i;
      }
      tokens[slot_of[i]] = next[i];
      lengths[slot_of[i]] = static_cast<int64_t>(prompts[i].size());
    }
    auto step_logits = torch::zeros({slots, m->config().vocab_size}, torch::kFloat32);
    forward.decode(tokens, lengths, slots, max_len, step_logits);
    for (size_t i = 0; i < prompts.size(); ++i) {
      auto ids = prompts[i];
      ids.push_back(next[i]);
      EXPECT_TRUE(torch::allclose(step_logits[slot_of[i]], last_logits(m, ids), 1e-4, 1e-4))
          << dir.filename() << " decode after the prefill, slot " << slot_of[i];
    }
  }
}

}  // namespace
}  // namespace grpo::model
