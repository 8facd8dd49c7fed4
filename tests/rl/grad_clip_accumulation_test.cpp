// Global-norm clipping, the non-finite step guard, and micro-batch plans (rows, or a token budget
// over rows sorted by length) whose weighted losses reproduce the whole-batch gradient for every
// aggregation mode.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "core/error.h"
#include "rl/algorithms/aggregation.h"
#include "rl/learner/grad_accumulation.h"
#include "rl/learner/grad_clip.h"
#include "rl/learner/optimizer.h"

namespace grpo::rl {
namespace {

TEST(GradClip, ReportsTheGlobalNormAndTheFactorThatScalesItDownToMaxNorm) {
  // grads (3) and (4): norm 5; max 1 → factor 1/(5 + 1e-6); the gradients themselves stay
  auto a = torch::full({1}, 3.0f), b = torch::full({1}, 4.0f);
  auto report = measure_grad_norm({a, b, torch::Tensor()}, 1.0);
  EXPECT_NEAR(report.norm, 5.0, 1e-6);
  EXPECT_TRUE(report.clipped);
  EXPECT_NEAR(report.scale, 0.2, 1e-6);
  EXPECT_EQ(a.item<float>(), 3.0f);
  auto loose = measure_grad_norm({a, b}, 10.0);
  EXPECT_FALSE(loose.clipped);
  EXPECT_EQ(loose.scale, 1.0);
  auto bf16 = measure_grad_norm({a.to(torch::kBFloat16), b.to(torch::kBFloat16)}, 0.0);
  EXPECT_NEAR(bf16.norm, 5.0, 1e-6);
  EXPECT_FALSE(bf16.clipped);
}

TEST(GradClip, NonFiniteGradientIsReportedAndNotScaled) {
  auto report = measure_grad_norm({torch::tensor({1.0f, std::numeric_limits<float>::infinity()})}, 1.0);
  EXPECT_FALSE(report.finite);
  EXPECT_FALSE(report.clipped);
  EXPECT_EQ(report.scale, 1.0);
}

TEST(GuardedStep, NonFiniteGradientOrLossSkipsTheUpdate) {
  auto p = torch::ones({2}).requires_grad_(true);
  AdamWOptions o;
  o.lr = 0.1;
  AdamW opt(make_decay_groups({p}, 0.0), o);
  p.mutable_grad() = torch::tensor({0.5f, std::numeric_limits<float>::quiet_NaN()});
  auto skipped = guarded_step(opt, {}, 1.0, 0.3);
  EXPECT_TRUE(skipped.skipped);
  EXPECT_FLOAT_EQ(p[0].item<float>(), 1.0f);  // weights untouched
  EXPECT_EQ(opt.steps_taken(), 0);            // nor the bias-correction count

  p.mutable_grad() = torch::full({2}, 0.5f);
  EXPECT_TRUE(guarded_step(opt, {}, 1.0, std::numeric_limits<double>::infinity()).skipped);
  EXPECT_FLOAT_EQ(p[0].item<float>(), 1.0f);

  p.mutable_grad() = torch::full({2}, 0.5f);
  auto taken = guarded_step(opt, {}, 0.0, 0.3);
  EXPECT_FALSE(taken.skipped);
  EXPECT_NEAR(taken.grad.norm, 0.707107, 1e-6);  // sqrt(2·.25), measured without clipping
  EXPECT_NEAR(p[0].item<float>(), 0.9, 1e-6);    // the first AdamW step moves by lr
}

// The clip factor reaches the update: a clipped step from g equals an unclipped step from the
// scaled gradient, and the given gradients are read instead of .grad, the result also written
// to the rounded copies.
TEST(GuardedStep, ClippedStepEqualsAStepFromTheScaledGradientAndRefreshesRoundedCopies) {
  AdamWOptions o;
  o.lr = 0.1;
  auto g = torch::tensor({3.0f, -4.0f, 0.25f});
  auto clipped = torch::tensor({1.0f, 2.0f, 3.0f}).requires_grad_(true);
  auto reference = clipped.detach().clone().requires_grad_(true);
  AdamW a(make_decay_groups({clipped}, 0.0), o), b(make_decay_groups({reference}, 0.0), o);
  auto rounded = torch::zeros({3}, torch::kBFloat16);
  for (int step = 0; step < 3; ++step) {
    AdamWStep in;
    in.grads = {g.to(torch::kBFloat16)};
    in.rounded = {rounded};
    auto report = guarded_step(a, in, 1.0, 0.0);
    ASSERT_TRUE(report.grad.clipped);
    reference.mutable_grad() = g.to(torch::kBFloat16).to(torch::kFloat32) * report.grad.scale;
    b.step();
  }
  EXPECT_TRUE(torch::allclose(clipped, reference, 0.0, 1e-7)) << clipped << reference;
  EXPECT_TRUE(torch::equal(rounded, clipped.detach().to(torch::kBFloat16)));
}

// 5 rows with lengths 4, 1, 3, 0, 2 (T = 4): micro-batches of 2 rows → sizes 2, 2, 1.
torch::Tensor step_mask() {
  return torch::tensor({{1.0f, 1.0f, 1.0f, 1.0f},
                        {1.0f, 0.0f, 0.0f, 0.0f},
                        {1.0f, 1.0f, 1.0f, 0.0f},
                        {0.0f, 0.0f, 0.0f, 0.0f},
                        {1.0f, 1.0f, 0.0f, 0.0f}});
}

// Prompt + completion per row of step_mask(): prompts 2, 5, 1, 3, 2 (row 3's completion is
// masked, not empty: a truncated row keeps its length).
const std::vector<int64_t> kLengths = {6, 6, 4, 7, 4};

MicroBatchLimit by_rows(int64_t rows) {
  MicroBatchLimit limit;
  limit.rows = rows;
  return limit;
}

MicroBatchLimit by_tokens(int64_t tokens) {
  MicroBatchLimit limit;
  limit.rows = 1;  // unused with a budget
  limit.tokens = tokens;
  limit.tokens_key = "rl.micro_batch_tokens";
  return limit;
}

TEST(MicroBatchPlan, RowsModeTakesConsecutiveRowsAndWeightsFollowTheAggregationUnit) {
  auto seq = plan_micro_batches(step_mask(), kLengths, by_rows(2), "seq-mean-token-mean");
  ASSERT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[1].rows, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(seq[2].rows, (std::vector<int64_t>{4}));
  EXPECT_DOUBLE_EQ(seq[0].loss_weight, 0.4);  // 2 of 5 rows
  EXPECT_DOUBLE_EQ(seq[2].loss_weight, 0.2);
  auto tok = plan_micro_batches(step_mask(), kLengths, by_rows(2), "token-mean");
  EXPECT_DOUBLE_EQ(tok[0].loss_weight, 0.5);  // 5 of 10 active tokens
  EXPECT_DOUBLE_EQ(tok[1].loss_weight, 0.3);  // 3 of 10
  EXPECT_DOUBLE_EQ(tok[2].loss_weight, 0.2);  // 2 of 10
  EXPECT_DOUBLE_EQ(plan_micro_batches(step_mask(), kLengths, by_rows(2), "token-mean-global")[1].loss_weight, 1.0);
}

// Budget 12: longest first (stable) is rows 3 (7), 0 (6), 1 (6), 2 (4), 4 (4). Row 3 opens a
// micro-batch of width 7 that cannot take a second row (14 > 12); rows 0 and 1 fill 2 × 6 = 12;
// rows 2 and 4 take 2 × 4 = 8.
TEST(MicroBatchPlan, TokenBudgetSortsLongestFirstAndKeepsEveryMicroBatchWithinTheBudget) {
  auto plan = plan_micro_batches(step_mask(), kLengths, by_tokens(12), "token-mean");
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].rows, (std::vector<int64_t>{3}));
  EXPECT_EQ(plan[1].rows, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(plan[2].rows, (std::vector<int64_t>{2, 4}));
  EXPECT_DOUBLE_EQ(plan[0].loss_weight, 0.0);  // row 3 has no active token
  EXPECT_DOUBLE_EQ(plan[1].loss_weight, 0.5);  // 4 + 1 of 10
  EXPECT_DOUBLE_EQ(plan[2].loss_weight, 0.5);  // 3 + 2 of 10

  for (const int64_t budget : {7, 8, 12, 13, 20, 100}) {
    std::vector<int> seen(kLengths.size(), 0);
    double seq_weights = 0, token_weights = 0;
    const auto seq = plan_micro_batches(step_mask(), kLengths, by_tokens(budget), "seq-mean-token-sum");
    const auto tok = plan_micro_batches(step_mask(), kLengths, by_tokens(budget), "token-mean");
    ASSERT_EQ(seq.size(), tok.size());
    for (size_t k = 0; k < seq.size(); ++k) {
      int64_t longest = 0;
      for (const int64_t r : seq[k].rows) ++seen[r], longest = std::max(longest, kLengths[r]);
      EXPECT_LE(static_cast<int64_t>(seq[k].rows.size()) * longest, budget) << "budget " << budget;
      seq_weights += seq[k].loss_weight;
      token_weights += tok[k].loss_weight;
    }
    EXPECT_EQ(seen, std::vector<int>(kLengths.size(), 1)) << "budget " << budget;
    EXPECT_NEAR(seq_weights, 1.0, 1e-12);
    EXPECT_NEAR(token_weights, 1.0, 1e-12);
  }
  EXPECT_EQ(plan_micro_batches(step_mask(), kLengths, by_tokens(100), "token-mean").size(), 1u);  // 5 × 7 = 35
}

TEST(MicroBatchPlan, ASequenceLongerThanTheTokenBudgetIsAnErrorNamingBothNumbersAndTheKey) {
  try {
    split_micro_batches(kLengths, by_tokens(6));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'rl.micro_batch_tokens' is 6 "), std::string::npos) << message;
    EXPECT_NE(message.find("has 7 tokens"), std::string::npos) << message;
  }
}

TEST(MicroBatchPlan, AccumulatedGradientEqualsTheWholeBatchGradient) {
  torch::manual_seed(11);
  const auto per_token_scale = torch::randn({5, 4});
  AggregationContext context;
  context.global_token_count = 10.0;
  context.max_completion_length = 6.0;
  for (const auto& name : loss_aggregations().names()) {
    auto x = torch::randn({5, 4}).requires_grad_(true);
    aggregate_loss(name, x * per_token_scale, step_mask(), context).backward();
    const auto whole = x.grad().clone();
    for (const auto& limit : {by_rows(2), by_tokens(12)}) {
      x.mutable_grad() = torch::Tensor();
      for (const auto& mb : plan_micro_batches(step_mask(), kLengths, limit, name)) {
        const auto index = torch::tensor(mb.rows, torch::kInt64);
        const auto rows = x.index_select(0, index) * per_token_scale.index_select(0, index);
        (aggregate_loss(name, rows, step_mask().index_select(0, index), context) * mb.loss_weight).backward();
      }
      EXPECT_LT((x.grad() - whole).abs().max().item<float>(), 1e-6) << name << " tokens " << limit.tokens;
    }
  }
}

}  // namespace
}  // namespace grpo::rl
