// The step's |log p_rollout − log p_learner| over completion tokens, accumulated across
// micro-batches: the mean weighs every token once, the max is the largest single token, not a
// mean of per-micro-batch maxima; padding never counts.
#include "rl/algorithms/logprob_mismatch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"

namespace grpo::rl {
namespace {

double value(const Metrics& m, const std::string& key) { return m.at(key).item<double>(); }

TEST(LogprobMismatch, MeanWeighsTokensAndMaxIsTheLargestTokenAcrossMicroBatches) {
  LogprobMismatch mismatch;
  // Micro-batch 1: |Δ| = .5, .25 on two active tokens; the third is padding holding a huge value.
  mismatch.add(torch::tensor({{-1.0f, -2.0f, -50.0f}}), torch::tensor({{-1.5f, -1.75f, 0.0f}}),
               torch::tensor({{1.0f, 1.0f, 0.0f}}));
  // Micro-batch 2: two rows, |Δ| = 2 (row 0) and .125, 0 (row 1); row 0's second slot is padding.
  mismatch.add(torch::tensor({{-3.0f, std::numeric_limits<float>::infinity()}, {-0.125f, -1.0f}}),
               torch::tensor({{-1.0f, 0.0f}, {0.0f, -1.0f}}), torch::tensor({{1.0f, 0.0f}, {1.0f, 1.0f}}));
  const auto m = mismatch.metrics();
  // (.5 + .25 + 2 + .125 + 0) / 5 tokens = .575; a mean of the two micro-batches' means would
  // give (.375 + .708333) / 2 = .541667.
  EXPECT_NEAR(value(m, "mismatch/abs_logp_mean"), 0.575, 1e-7);
  // max over tokens = 2 (not (.5 + 2) / 2)
  EXPECT_DOUBLE_EQ(value(m, "mismatch/abs_logp_max"), 2.0);
  // k3: the mean of e^r − 1 − r over the same five tokens, r = learner − rollout.
  double k3 = 0;
  for (double r : {0.5, -0.25, -2.0, -0.125, 0.0}) k3 += std::exp(r) - 1.0 - r;
  EXPECT_NEAR(value(m, "mismatch/k3"), k3 / 5.0, 1e-7);
}

// For the tiny differences of a close match, k3 ≈ r²/2 must survive: float32 would cancel
// e^r − 1 − r to 0 for |r| around 1e-4.
TEST(LogprobMismatch, K3KeepsTinyDifferences) {
  LogprobMismatch mismatch;
  mismatch.add(torch::tensor({{-1.0f + 1e-4f}}), torch::tensor({{-1.0f}}), torch::ones({1, 1}));
  const double r = static_cast<double>(-1.0f + 1e-4f) + 1.0;  // the float32 difference exactly
  EXPECT_NEAR(value(mismatch.metrics(), "mismatch/k3"), std::expm1(r) - r, 1e-15);
  EXPECT_GT(value(mismatch.metrics(), "mismatch/k3"), 4e-9);
}

TEST(LogprobMismatch, EmptyMaskGivesZerosAndNoAddGivesNoMetrics) {
  EXPECT_TRUE(LogprobMismatch().metrics().empty());
  LogprobMismatch mismatch;
  mismatch.add(torch::tensor({{-1.0f, -2.0f}}), torch::tensor({{0.0f, 0.0f}}), torch::zeros({1, 2}));
  const auto m = mismatch.metrics();
  EXPECT_EQ(value(m, "mismatch/abs_logp_mean"), 0.0);
  EXPECT_EQ(value(m, "mismatch/abs_logp_max"), 0.0);
  EXPECT_EQ(value(m, "mismatch/k3"), 0.0);
}

TEST(LogprobMismatch, ShapeMismatchIsAnError) {
  LogprobMismatch mismatch;
  EXPECT_THROW(mismatch.add(torch::zeros({2, 3}), torch::zeros({2, 2}), torch::ones({2, 3})), Error);
}

}  // namespace
}  // namespace grpo::rl
