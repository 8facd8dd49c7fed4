// Properties of the inference cache for every architecture (tiny random models): prefill plus
// one-token decoding equals the full forward; a right-padded batch equals its rows run alone;
// a forked slot (copy_slots) continues exactly like the original; cache sizes per token.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/io/model_io.h"
#include "test_util.h"

namespace grpo::model {
namespace {

using testing::relative_error;

CausalLM random_model(const std::string& type) {
  CausalLM model(testing::tiny_config(type));
  init_weights(model, 7, 0.1);
  model->eval();
  return model;
}

TEST(Cache, PrefillThenDecodeEqualsFullForwardForEveryArchitecture) {
  torch::NoGradGuard no_grad;
  for (const char* type : testing::kModelTypes) {
    SCOPED_TRACE(type);
    auto model = random_model(type);
    torch::manual_seed(1);
    auto ids = torch::randint(0, model->config().vocab_size, {2, 12}, torch::kInt64);
    ForwardInput full;
    full.input_ids = ids;
    auto want = model->logits(model->forward(full).hidden);

    InferenceCache cache(model->config(), 2, 16, torch::TensorOptions().dtype(torch::kFloat32));
    ForwardInput step;
    step.cache = &cache;
    step.cache_slots = torch::arange(2, torch::kInt64);
    step.input_ids = ids.narrow(1, 0, 5);
    std::vector<torch::Tensor> got{model->logits(model->forward(step).hidden)};
    for (int64_t t = 5; t < 12; ++t) {
      step.input_ids = ids.narrow(1, t, 1);
      got.push_back(model->logits(model->forward(step).hidden));
    }
    EXPECT_EQ(cache.length(0), 12);
    EXPECT_LE(relative_error(torch::cat(got, 1), want), 1e-5);
  }
}

TEST(Cache, RightPaddedBatchEqualsEachRowAlone) {
  torch::NoGradGuard no_grad;
  for (const char* type : testing::kModelTypes) {
    SCOPED_TRACE(type);
    auto model = random_model(type);
    torch::manual_seed(2);
    auto ids = torch::randint(0, model->config().vocab_size, {2, 9}, torch::kInt64);
    auto mask = torch::ones({2, 9}, torch::kBool);
    mask[1].narrow(0, 6, 3).fill_(false);  // row 1 has 6 real tokens
    ForwardInput batch;
    batch.input_ids = ids;
    batch.attention_mask = mask;
    auto h = model->forward(batch).hidden;
    ForwardInput alone;
    alone.input_ids = ids[1].narrow(0, 0, 6).unsqueeze(0);
    auto h1 = model->forward(alone).hidden;
    EXPECT_LE(relative_error(h[1].narrow(0, 0, 6), h1[0]), 1e-5);
    EXPECT_FALSE(torch::isnan(h).any().item<bool>());

    // The same padded batch through the cache: padding is not cached, lengths are per row.
    InferenceCache cache(model->config(), 2, 12, torch::TensorOptions().dtype(torch::kFloat32));
    batch.cache = &cache;
    batch.cache_slots = torch::arange(2, torch::kInt64);
    auto hc = model->forward(batch).hidden;
    EXPECT_EQ(cache.length(0), 9);
    EXPECT_EQ(cache.length(1), 6);
    EXPECT_LE(relative_error(hc[1].narrow(0, 0, 6), h1[0]), 1e-5);
    EXPECT_LE(relative_error(hc[0], h[0]), 1e-5);
  }
}

TEST(Cache, ForkedSlotContinuesLikeTheOriginal) {
  torch::NoGradGuard no_grad;
  for (const char* type : testing::kModelTypes) {
    SCOPED_TRACE(type);
    auto model = random_model(type);
    torch::manual_seed(3);
    auto prompt = torch::randint(0, model->config().vocab_size, {1, 7}, torch::kInt64);
    InferenceCache cache(model->config(), 3, 10, torch::TensorOptions().dtype(torch::kFloat32));
    ForwardInput in;
    in.cache = &cache;
    in.cache_slots = torch::zeros({1}, torch::kInt64);
    in.input_ids = prompt;
    model->forward(in);
    cache.copy_slots({0, 0}, {1, 2});
    cache.set_length(2, 4);  // a shorter prefix: decode continues from token 4
    in.cache_slots = torch::tensor({0, 1}, torch::kInt64);
    in.input_ids = torch::tensor({{5}, {5}}, torch::kInt64);
    auto h = model->forward(in).hidden;
    EXPECT_TRUE(torch::allclose(h[0], h[1], 1e-6, 1e-6));
    EXPECT_EQ(cache.length(1), 8);
    EXPECT_EQ(cache.length(2), 4);
    EXPECT_THROW(cache.copy_slots({1}, {0, 2}), Error);  // not one destination per source
    EXPECT_THROW(cache.copy_slots({1, 2}, {0, 1}), Error);  // a destination that is also a source
    EXPECT_THROW(cache.copy_slots({1}, {3}), Error);        // no slot 3
  }
}

TEST(Cache, OverflowingASlotIsAnError) {
  auto model = random_model("llama");
  torch::NoGradGuard no_grad;
  InferenceCache cache(model->config(), 1, 4, torch::TensorOptions().dtype(torch::kFloat32));
  ForwardInput in;
  in.cache = &cache;
  in.cache_slots = torch::zeros({1}, torch::kInt64);
  in.input_ids = torch::zeros({1, 5}, torch::kInt64);
  EXPECT_THROW(model->forward(in), Error);
}

TEST(Cache, MlaCachesTheLatentOnly) {
  auto c = parse_model_config({{"model_type", "deepseek_v3"}});  // DeepSeek-V3 sizes
  EXPECT_EQ(InferenceCache::bytes_per_token(c, torch::kBFloat16), 61 * 576 * 2);  // 70,272 B/token
  EXPECT_EQ(InferenceCache::mha_bytes_per_token(c, torch::kBFloat16), 61 * 128 * (192 + 128) * 2);
  auto q = parse_model_config({{"model_type", "qwen2"}, {"hidden_size", 896}, {"num_attention_heads", 14},
                               {"num_key_value_heads", 2}, {"num_hidden_layers", 24}});
  EXPECT_EQ(InferenceCache::bytes_per_token(q, torch::kBFloat16), 24 * 2 * 2 * 64 * 2);
}

}  // namespace
}  // namespace grpo::model
