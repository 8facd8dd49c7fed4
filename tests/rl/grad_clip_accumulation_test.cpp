// Global-norm clipping, the non-finite step guard, and micro-batch plans whose weighted losses
// reproduce the whole-batch gradient for every aggregation mode.
#include <gtest/gtest.h>

#include <limits>

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

TEST(MicroBatchPlan, WeightsFollowTheAggregationUnit) {
  auto seq = plan_micro_batches(step_mask(), 2, "seq-mean-token-mean");
  ASSERT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[2].begin, 4);
  EXPECT_EQ(seq[2].end, 5);
  EXPECT_DOUBLE_EQ(seq[0].loss_weight, 0.4);  // 2 of 5 rows
  EXPECT_DOUBLE_EQ(seq[2].loss_weight, 0.2);
  auto tok = plan_micro_batches(step_mask(), 2, "token-mean");
  EXPECT_DOUBLE_EQ(tok[0].loss_weight, 0.5);  // 5 of 10 active tokens
  EXPECT_DOUBLE_EQ(tok[1].loss_weight, 0.3);  // 3 of 10
  EXPECT_DOUBLE_EQ(tok[2].loss_weight, 0.2);  // 2 of 10
  EXPECT_DOUBLE_EQ(plan_micro_batches(step_mask(), 2, "token-mean-global")[1].loss_weight, 1.0);
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
    x.mutable_grad() = torch::Tensor();
    for (const auto& mb : plan_micro_batches(step_mask(), 2, name)) {
      const auto rows = x.slice(0, mb.begin, mb.end) * per_token_scale.slice(0, mb.begin, mb.end);
      (aggregate_loss(name, rows, step_mask().slice(0, mb.begin, mb.end), context) * mb.loss_weight)
          .backward();
    }
    EXPECT_LT((x.grad() - whole).abs().max().item<float>(), 1e-6) << name;
  }
}

}  // namespace
}  // namespace grpo::rl
