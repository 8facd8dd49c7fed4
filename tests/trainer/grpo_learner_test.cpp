// The GRPO learner's padded micro-batching on a tiny float32 model (packed_learner_test.cpp has
// the packed one): with rl.micro_batch_tokens (rows sorted by length, binned by a budget of
// padded token slots) each optimizer step's loss and the weights after the steps equal those of
// one micro-batch per minibatch, for every registered aggregation; score() gives every row its
// own log-probs in the batch's order; a sequence longer than the budget is refused before any
// work, naming both numbers.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rl/algorithms/aggregation.h"
#include "rl/trainer/grpo_learner.h"
#include "tests/trainer/learner_test_batch.h"

namespace grpo::rl {
namespace {

// Budget 20 cuts the first minibatch into {16}, {12}, {6, 6} and the second into {8, 8}, {7, 6}.
TEST(GrpoLearner, TokenBudgetMicroBatchesGiveTheWholeMinibatchLossAndGradientsForEveryAggregation) {
  const auto batch = mixed_length_batch();
  for (const auto& aggregation : loss_aggregations().names()) {
    auto whole_model = tiny_model(), budget_model = tiny_model();
    GrpoLearner whole(whole_model, learner_settings(aggregation, 0), gradient_revealing_optim(), 0.7, 16, 1);
    GrpoLearner budget(budget_model, learner_settings(aggregation, 20), gradient_revealing_optim(), 0.7, 16, 1);
    ASSERT_EQ(plan_minibatches(batch, learner_settings(aggregation, 20))[0].micro_batches.size(), 3u);
    const auto before = weights(whole_model);
    const auto expected = whole.update(batch, 0);
    const auto got = budget.update(batch, 0);
    ASSERT_EQ(expected.minibatch_losses.size(), 2u);
    ASSERT_EQ(got.minibatch_losses.size(), 2u);
    for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(got.minibatch_losses[k], expected.minibatch_losses[k], 1e-5) << aggregation;
    EXPECT_EQ(got.skipped_steps, 0);
    EXPECT_EQ(got.trained_tokens, expected.trained_tokens);
    EXPECT_GT(max_difference(weights(whole_model), before), 1e-2) << aggregation << ": the steps moved nothing";
    EXPECT_LT(max_difference(weights(budget_model), weights(whole_model)), 1e-5) << aggregation;
  }
}

TEST(GrpoLearner, ScoreReturnsEachRowsLogProbsInTheBatchOrderUnderATokenBudget) {
  const auto batch = mixed_length_batch();
  auto rows_model = tiny_model(), budget_model = tiny_model();
  auto rows_settings = learner_settings("token-mean", 0);
  rows_settings.micro_batch_size = 3;
  GrpoLearner by_rows(rows_model, rows_settings, gradient_revealing_optim(), 0.7, 16, 1);
  GrpoLearner by_tokens(budget_model, learner_settings("token-mean", 20), gradient_revealing_optim(), 0.7, 16, 1);
  const auto expected = by_rows.score(rows_model, batch.sequences);
  const auto got = by_tokens.score(budget_model, batch.sequences);
  ASSERT_EQ(got.sizes(), batch.sequences.targets.sizes());
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
  // Each row alone, unpadded: the values belong to that row, and padding stays 0.
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < batch.sequences.rows(); ++i) {
    const auto alone = completion_logprobs(budget_model, select_rows(batch.sequences, {i}), 0.7).logprobs[0];
    const int64_t c = batch.sequences.completion_lengths[static_cast<size_t>(i)];
    EXPECT_LT((got[i].slice(0, 0, c) - alone).abs().max().item<double>(), 1e-5) << "row " << i;
    EXPECT_EQ(got[i].slice(0, c).abs().sum().item<double>(), 0.0) << "row " << i;
  }
}

TEST(GrpoLearner, ASequenceLongerThanTheTokenBudgetFailsBeforeAnyStepNamingBothNumbers) {
  const auto batch = mixed_length_batch();
  auto m = tiny_model();
  GrpoLearner learner(m, learner_settings("token-mean", 15), gradient_revealing_optim(), 0.7, 16, 1);
  const auto before = weights(m);
  try {
    learner.update(batch, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'rl.micro_batch_tokens' is 15 "), std::string::npos) << message;
    EXPECT_NE(message.find("has 16 tokens"), std::string::npos) << message;
  }
  EXPECT_EQ(max_difference(weights(m), before), 0.0);
}

TEST(GrpoLearner, ANegativeTokenBudgetIsAValidationErrorNamingTheKey) {
  auto s = learner_settings("token-mean", -1);
  const auto problems = validate(s);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("'rl.micro_batch_tokens' must be >= 0"), std::string::npos) << problems[0];
}

// mismatch/abs_logp_{mean,max} compare the pre-update policy with the rollout over every
// completion token (the truncated row 5 too), whatever the micro-batches: scored old log-probs
// with a rollout correction, pass 0's forwards without one. The max is the largest token's.
TEST(GrpoLearner, MismatchMetricsCoverEveryCompletionTokenOfThePreUpdatePolicy) {
  const auto batch = mixed_length_batch();
  for (const std::string correction : {"token_truncate", "none"}) {
    auto m = tiny_model();
    auto settings = learner_settings("token-mean", 0);
    settings.minibatches = 1;
    settings.batch_size = 8;
    settings.micro_batch_size = 3;  // micro-batches of 3, 3 and 2 rows
    settings.rollout_correction = correction;
    GrpoLearner learner(m, settings, gradient_revealing_optim(), 0.7, 16, 1);
    const auto mask = batch.sequences.completion_mask;
    const auto abs_diff = (learner.score(m, batch.sequences) - batch.rollout_logprobs).abs() * mask;
    const auto report = learner.update(batch, 0);
    EXPECT_NEAR(report.metrics.at("mismatch/abs_logp_mean"), (abs_diff.sum() / mask.sum()).item<double>(), 1e-6)
        << correction;
    EXPECT_NEAR(report.metrics.at("mismatch/abs_logp_max"), abs_diff.max().item<double>(), 1e-6) << correction;
  }
}

}  // namespace
}  // namespace grpo::rl
