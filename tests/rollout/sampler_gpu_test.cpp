// The one-pass CUDA sampler (label gpu; skipped without a CUDA device), through
// sample_next_tokens as the engine calls it: 20,000 draws follow softmax(logits / T) by a
// chi-square test in bfloat16 and float32, for a vocabulary that is not a multiple of 4 and one
// of Qwen's size; log-probs equal log_softmax of the same logits; greedy rows take the first
// maximum; a seed fixes the draws and another seed changes them.
#include <gtest/gtest.h>

#include <cmath>

#include "core/torch/device.h"
#include "rollout/fused_sampling.h"
#include "rollout/sampler.h"
#include "tests/common/cuda.h"
#include "tests/rollout/sampling_checks.h"

using grpo::rollout::RowSampling;
using grpo::rollout::SamplingBatch;

namespace {

using grpo::testing::kCuda;

at::Generator cuda_generator(uint64_t seed) { return grpo::make_generator(kCuda, seed); }

SamplingBatch plain_batch(int64_t rows, double temperature) {
  return grpo::rollout::make_sampling_batch(std::vector<RowSampling>(rows, {temperature, 0, 1.0, 0.0}), kCuda);
}

// softmax(z / T) in double of a row as the kernel sees it (after rounding to `dtype`).
std::vector<double> softmax(const torch::Tensor& row, double temperature) {
  const auto z = row.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto p = torch::softmax(z / temperature, 0);
  return {p.data_ptr<double>(), p.data_ptr<double>() + p.numel()};
}

// Ten likely tokens at scattered columns, every other column 30 below them (never drawn in
// practice, but summed into the normalizer), `vocab` columns in all.
torch::Tensor spread_logits(int64_t vocab) {
  auto row = torch::full({vocab}, -28.0f);
  const std::vector<float> likely = {2.0f, 1.5f, 1.2f, 0.3f, 0.0f, -0.5f, -1.0f, -2.0f, 0.9f, 1.1f};
  for (size_t i = 0; i < likely.size(); ++i) row[static_cast<int64_t>(i * (vocab / 10) + 3)] = likely[i];
  return row;
}

void check_distribution(int64_t vocab, torch::Dtype dtype, double temperature) {
  const int64_t draws = 20000;
  const auto row = spread_logits(vocab).to(dtype);
  const auto logits = row.unsqueeze(0).expand({draws, vocab}).contiguous().to(kCuda);
  const auto batch = plain_batch(draws, temperature);
  ASSERT_TRUE(grpo::rollout::fused_sampling_applies(logits, batch));
  auto gen = cuda_generator(1234);
  const auto out = grpo::rollout::sample_next_tokens(logits, batch, gen);
  const auto fit = grpo::testing::chi_square(out.tokens, softmax(row, temperature));
  // 99.9th percentile of chi-square with 9 degrees of freedom: 27.9. The bins of the tokens 30
  // below (expected ~1e-9 draws each) add (c - e)^2 / e, which one stray draw makes huge.
  EXPECT_LT(fit.statistic, 27.9) << "df=" << fit.df;
  const auto want = torch::log_softmax(row.to(torch::kFloat32) / temperature, 0).to(kCuda).index_select(0, out.tokens);
  EXPECT_LT((want - out.logprobs).abs().max().item<float>(), 1e-4);
}

}  // namespace

TEST(FusedSampler, Bf16DrawsFollowTheTemperatureSoftmax) {
  GRPO_REQUIRE_CUDA();
  check_distribution(4099, torch::kBFloat16, 0.7);
}

TEST(FusedSampler, Float32DrawsFollowTheTemperatureSoftmax) {
  GRPO_REQUIRE_CUDA();
  check_distribution(4099, torch::kFloat32, 1.3);
}

TEST(FusedSampler, QwenSizedVocabularyFollowsTheSoftmax) {
  GRPO_REQUIRE_CUDA();
  check_distribution(151936, torch::kBFloat16, 1.0);
}

// Random logits of a real-sized vocabulary: every log-prob equals log_softmax's at that token.
TEST(FusedSampler, LogprobsEqualLogSoftmaxOnRandomLogits) {
  GRPO_REQUIRE_CUDA();
  torch::manual_seed(0);
  const auto logits = (torch::randn({96, 151936}) * 4).to(kCuda, torch::kBFloat16);
  const auto batch = plain_batch(96, 0.8);
  auto gen = cuda_generator(3);
  const auto out = grpo::rollout::sample_next_tokens(logits, batch, gen);
  const auto ref = torch::log_softmax(logits.to(torch::kFloat32) / 0.8, -1);
  const auto want = ref.gather(1, out.tokens.unsqueeze(1)).squeeze(1);
  EXPECT_LT((want - out.logprobs).abs().max().item<float>(), 1e-4);
  EXPECT_TRUE((out.tokens >= 0).logical_and(out.tokens < 151936).all().item<bool>());
}

TEST(FusedSampler, GreedyRowsTakeTheFirstMaximumInAMixedBatch) {
  GRPO_REQUIRE_CUDA();
  auto logits = torch::randn({4, 10000});
  logits[0][7777] = 50.0f;  // greedy, unique max
  logits[1][9001] = 50.0f;  // greedy, tied max: the first one wins
  logits[1][4242] = 50.0f;
  logits[2][123] = 50.0f;  // sampled: p ~ 1
  const auto batch = grpo::rollout::make_sampling_batch(
      {{0.0, 0, 1.0, 0.0}, {0.0, 0, 1.0, 0.0}, {1.0, 0, 1.0, 0.0}, {0.0, 0, 1.0, 0.0}}, kCuda);
  auto gen = cuda_generator(11);
  const auto on_gpu = logits.to(kCuda, torch::kBFloat16);
  const auto out = grpo::rollout::sample_next_tokens(on_gpu, batch, gen);
  const auto tokens = out.tokens.cpu();
  EXPECT_EQ(tokens[0].item<int64_t>(), 7777);
  EXPECT_EQ(tokens[1].item<int64_t>(), 4242);
  EXPECT_EQ(tokens[2].item<int64_t>(), 123);
  EXPECT_EQ(tokens[3].item<int64_t>(), on_gpu[3].to(torch::kFloat32).argmax().item<int64_t>());
  const auto ref = torch::log_softmax(on_gpu.to(torch::kFloat32), -1).gather(1, out.tokens.unsqueeze(1)).squeeze(1);
  EXPECT_LT((ref - out.logprobs).abs().max().item<float>(), 1e-4);
}

TEST(FusedSampler, SameSeedSameTokensOtherSeedOtherTokens) {
  GRPO_REQUIRE_CUDA();
  torch::manual_seed(1);
  const auto logits = torch::randn({256, 32000}).to(kCuda, torch::kBFloat16);
  const auto batch = plain_batch(256, 1.0);
  auto g1 = cuda_generator(99), g2 = cuda_generator(99), g3 = cuda_generator(100);
  const auto a = grpo::rollout::sample_next_tokens(logits, batch, g1).tokens;
  const auto b = grpo::rollout::sample_next_tokens(logits, batch, g2).tokens;
  const auto c = grpo::rollout::sample_next_tokens(logits, batch, g3).tokens;
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_GT(a.ne(c).sum().item<int64_t>(), 200);  // near-uniform over 32000: almost every row differs
  // The generator advances: a second draw from g1 differs from the first.
  EXPECT_GT(a.ne(grpo::rollout::sample_next_tokens(logits, batch, g1).tokens).sum().item<int64_t>(), 200);
}

TEST(FusedSampler, TopPBatchesTakeTheGeneralPath) {
  GRPO_REQUIRE_CUDA();
  const auto logits = torch::randn({2, 100}).to(kCuda);
  const auto batch = grpo::rollout::make_sampling_batch({{1.0, 0, 0.9, 0.0}, {1.0, 0, 1.0, 0.0}}, kCuda);
  EXPECT_FALSE(grpo::rollout::fused_sampling_applies(logits, batch));
  EXPECT_FALSE(grpo::rollout::fused_sampling_applies(logits.cpu(), plain_batch(2, 1.0)));
}
