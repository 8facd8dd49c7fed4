// The sampler draws from softmax(logits / T) restricted by top-k, top-p and min-p: checked by
// a chi-square test over 20,000 draws against a distribution computed here with plain loops,
// filtered tokens never appear, and the returned log-probs are log softmax(logits / T).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "rollout/sampler.h"
#include "tests/rollout/sampling_checks.h"

using grpo::rollout::RowSampling;

namespace {

// Reference: the filtered distribution, written from the definitions.
std::vector<double> expected_distribution(const std::vector<double>& logits, const RowSampling& s) {
  const size_t v = logits.size();
  std::vector<double> p(v);
  double mx = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  for (size_t i = 0; i < v; ++i) z += p[i] = std::exp((logits[i] - mx) / s.temperature);
  for (auto& x : p) x /= z;
  std::vector<size_t> order(v);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  std::vector<bool> keep(v, true);
  double before = 0;
  for (size_t r = 0; r < v; ++r) {
    const size_t i = order[r];
    if (s.top_k > 0 && static_cast<int64_t>(r) >= s.top_k) keep[i] = false;
    if (before >= s.top_p) keep[i] = false;
    if (p[i] < s.min_p * p[order[0]]) keep[i] = false;
    before += p[i];
  }
  double kept = 0;
  for (size_t i = 0; i < v; ++i) kept += keep[i] ? p[i] : 0;
  for (size_t i = 0; i < v; ++i) p[i] = keep[i] ? p[i] / kept : 0;
  return p;
}

void check_sampling(const RowSampling& s) {
  const std::vector<double> logits = {2.0, 1.5, 1.2, 0.3, 0.0, -0.5, -1.0, -2.0, 0.9, 1.1};
  const int64_t draws = 20000, v = static_cast<int64_t>(logits.size());
  auto row = torch::tensor(std::vector<float>(logits.begin(), logits.end())).unsqueeze(0);
  auto batch_logits = row.expand({draws, v}).contiguous();
  auto batch = grpo::rollout::make_sampling_batch(std::vector<RowSampling>(draws, s), torch::kCPU);
  auto gen = at::detail::createCPUGenerator(1234);
  auto out = grpo::rollout::sample_next_tokens(batch_logits, batch, gen);
  const auto fit = grpo::testing::chi_square(out.tokens, expected_distribution(logits, s));
  EXPECT_EQ(fit.impossible, 0) << "filtered-out tokens were sampled";
  // 99.9th percentile of chi-square for df <= 9 is below 27.9: a correct sampler fails 1 in 1000
  // seeds, and this seed is fixed.
  EXPECT_LT(fit.statistic, 27.9) << "df=" << fit.df;
  // Log-probs: log softmax(logits / T) of the sampled token, full vocabulary.
  auto ref = torch::log_softmax(row / s.temperature, -1).squeeze(0);
  auto want = ref.index_select(0, out.tokens);
  EXPECT_LT((want - out.logprobs).abs().max().item<float>(), 1e-5);
}

}  // namespace

TEST(Sampler, PlainTemperatureMatchesSoftmax) { check_sampling({0.7, 0, 1.0, 0.0}); }
TEST(Sampler, TopKKeepsOnlyTheKMostLikely) { check_sampling({1.0, 3, 1.0, 0.0}); }
TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) { check_sampling({1.3, 0, 0.8, 0.0}); }
TEST(Sampler, MinPDropsTokensBelowAFractionOfTheBest) { check_sampling({1.0, 0, 1.0, 0.3}); }
TEST(Sampler, CombinedFilters) { check_sampling({0.9, 6, 0.9, 0.05}); }

TEST(Sampler, GreedyRowsTakeTheArgmaxInAMixedBatch) {
  auto logits = torch::tensor({{0.1f, 3.0f, 0.2f}, {5.0f, 0.0f, 0.0f}});
  auto batch = grpo::rollout::make_sampling_batch({{0.0, 0, 1.0, 0.0}, {1.0, 0, 1.0, 0.0}}, torch::kCPU);
  auto gen = at::detail::createCPUGenerator(7);
  for (int i = 0; i < 20; ++i) {
    auto out = grpo::rollout::sample_next_tokens(logits, batch, gen);
    EXPECT_EQ(out.tokens[0].item<int64_t>(), 1);
  }
  auto out = grpo::rollout::sample_next_tokens(logits, batch, gen);
  EXPECT_NEAR(out.logprobs[0].item<float>(), torch::log_softmax(logits[0], 0)[1].item<float>(), 1e-6);
}

TEST(Sampler, SameSeedSameTokens) {
  auto logits = torch::randn({64, 50});
  auto batch = grpo::rollout::make_sampling_batch(std::vector<RowSampling>(64, {1.0, 0, 0.95, 0.0}), torch::kCPU);
  auto g1 = at::detail::createCPUGenerator(99), g2 = at::detail::createCPUGenerator(99);
  EXPECT_TRUE(torch::equal(grpo::rollout::sample_next_tokens(logits, batch, g1).tokens,
                           grpo::rollout::sample_next_tokens(logits, batch, g2).tokens));
}

TEST(Sampler, NegativeInfinityLogitsAreNeverChosen) {
  auto logits = torch::zeros({2000, 8});
  logits.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, 4)}, -std::numeric_limits<float>::infinity());
  auto batch = grpo::rollout::make_sampling_batch(std::vector<RowSampling>(2000, {1.0, 0, 1.0, 0.0}), torch::kCPU);
  auto gen = at::detail::createCPUGenerator(5);
  auto out = grpo::rollout::sample_next_tokens(logits, batch, gen);
  EXPECT_TRUE((out.tokens >= 4).all().item<bool>());
}
