// AdamW construction (decay groups, one hand-computed step) and the learning-rate schedule.
#include "rl/learner/optimizer.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace grpo::rl {
namespace {

ScheduleOptions schedule(ScheduleKind kind, int64_t warmup, int64_t total, double min_ratio) {
  ScheduleOptions o;
  o.base_lr = 1.0;
  o.kind = kind;
  o.warmup_steps = warmup;
  o.total_steps = total;
  o.min_lr_ratio = min_ratio;
  return o;
}

TEST(Schedule, LinearWarmupStartsAboveZeroThenConstant) {
  const auto o = schedule(ScheduleKind::constant, 4, 0, 0.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(0, o), 0.25);  // (0+1)/4
  EXPECT_DOUBLE_EQ(learning_rate_at(1, o), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate_at(3, o), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(1000, o), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(0, schedule(ScheduleKind::constant, 0, 0, 0.0)), 1.0);
}

TEST(Schedule, CosineDecaysToTheMinimumRatio) {
  // warmup 4, total 14, min .1: step 4 → 1; step 9 (progress .5) → .1 + .9·.5 = .55; step 14 → .1
  const auto o = schedule(ScheduleKind::cosine, 4, 14, 0.1);
  EXPECT_DOUBLE_EQ(learning_rate_at(3, o), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(4, o), 1.0);
  EXPECT_NEAR(learning_rate_at(9, o), 0.55, 1e-12);
  EXPECT_NEAR(learning_rate_at(14, o), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate_at(40, o), 0.1, 1e-12);  // held at the floor past the end
}

TEST(Schedule, BadSettingsAreErrors) {
  EXPECT_THROW(learning_rate_at(5, schedule(ScheduleKind::cosine, 4, 4, 0.0)), Error);
  EXPECT_THROW(learning_rate_at(0, schedule(ScheduleKind::constant, 0, 0, 1.5)), Error);
  EXPECT_THROW(parse_schedule_kind("linear"), Error);
  EXPECT_EQ(parse_schedule_kind("cosine"), ScheduleKind::cosine);
}

TEST(AdamW, DecaysMatricesOnlyAndTakesTheTextbookFirstStep) {
  // First AdamW step: m̂ = g, v̂ = g², update = lr·g/(|g| + eps) ≈ lr·sign(g); decoupled decay
  // multiplies the matrix by (1 - lr·wd) first. lr .1, wd .1, g = .5:
  //   vector 1 → 1 - .1 = .9;  matrix 1 → 1·(1 - .01) - .1 = .89
  auto matrix = torch::ones({2, 2}).requires_grad_(true);
  auto vector = torch::ones({2}).requires_grad_(true);
  AdamWOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.1;
  auto opt = make_adamw({matrix, vector}, o);
  ASSERT_EQ(opt->param_groups().size(), 2u);
  EXPECT_EQ(opt->param_groups()[0].params().size(), 1u);
  (matrix.sum() * 0.5 + vector.sum() * 0.5).backward();
  opt->step();
  EXPECT_NEAR(vector[0].item<float>(), 0.9, 1e-6);
  EXPECT_NEAR(matrix[0][0].item<float>(), 0.89, 1e-6);
}

TEST(AdamW, SetLearningRateReachesEveryGroup) {
  auto a = torch::ones({2, 2}).requires_grad_(true);
  auto b = torch::ones({2}).requires_grad_(true);
  auto opt = make_adamw({a, b}, {});
  set_learning_rate(*opt, 3e-6);
  for (auto& group : opt->param_groups()) EXPECT_DOUBLE_EQ(group.options().get_lr(), 3e-6);
}

}  // namespace
}  // namespace grpo::rl
