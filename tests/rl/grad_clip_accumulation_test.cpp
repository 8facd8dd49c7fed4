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

TEST(GradClip, ReportsTheGlobalNormAndScalesDownToMaxNorm) {
  // grads (3) and (4): norm 5; max 1 → scaled by 1/(5 + 1e-6): .6, .8
  auto a = torch::zeros({1}).requires_grad_(true);
  auto b = torch::zeros({1}).requires_grad_(true);
  a.mutable_grad() = torch::full({1}, 3.0f);
  b.mutable_grad() = torch::full({1}, 4.0f);
  auto report = clip_grad_norm({a, b}, 1.0);
  EXPECT_NEAR(report.norm, 5.0, 1e-6);
  EXPECT_TRUE(report.clipped);
  EXPECT_NEAR(a.grad().item<float>(), 0.6, 1e-6);
  EXPECT_NEAR(b.grad().item<float>(), 0.8, 1e-6);
  auto again = clip_grad_norm({a, b}, 10.0);
  EXPECT_NEAR(again.norm, 1.0, 1e-6);
  EXPECT_FALSE(again.clipped);
}

TEST(GradClip, NonFiniteGradientIsReportedAndLeftUnscaled) {
  auto a = torch::zeros({2}).requires_grad_(true);
  a.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity()});
  auto report = clip_grad_norm({a}, 1.0);
  EXPECT_FALSE(report.finite);
  EXPECT_FALSE(report.clipped);
  EXPECT_EQ(a.grad()[0].item<float>(), 1.0f);
}

TEST(GuardedStep, NonFiniteGradientOrLossSkipsTheUpdate) {
  auto p = torch::ones({2}).requires_grad_(true);
  AdamWOptions o;
  o.lr = 0.1;
  AdamW opt(make_decay_groups({p}, 0.0), o);
  p.mutable_grad() = torch::tensor({0.5f, std::numeric_limits<float>::quiet_NaN()});
  auto skipped = guarded_step(opt, {p}, 1.0, 0.3);
  EXPECT_TRUE(skipped.skipped);
  EXPECT_FLOAT_EQ(p[0].item<float>(), 1.0f);  // weights untouched
  EXPECT_EQ(opt.steps_taken(), 0);            // nor the bias-correction count

  p.mutable_grad() = torch::full({2}, 0.5f);
  EXPECT_TRUE(guarded_step(opt, {p}, 1.0, std::numeric_limits<double>::infinity()).skipped);
  EXPECT_FLOAT_EQ(p[0].item<float>(), 1.0f);

  p.mutable_grad() = torch::full({2}, 0.5f);
  auto taken = guarded_step(opt, {p}, 0.0, 0.3);
  EXPECT_FALSE(taken.skipped);
  EXPECT_NEAR(taken.grad.norm, 0.707107, 1e-6);  // sqrt(2·.25), measured without clipping
  EXPECT_NEAR(p[0].item<float>(), 0.9, 1e-6);    // the first AdamW step moves by lr
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
