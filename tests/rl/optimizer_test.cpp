// AdamW construction (decay groups, one hand-computed step) and the learning-rate schedule.
#include "rl/learner/optimizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"

namespace grpo::rl {
namespace {

ScheduleOptions schedule(const std::string& kind, int64_t warmup, int64_t total, double min_ratio) {
  ScheduleOptions o;
  o.base_lr = 1.0;
  o.kind = kind;
  o.warmup_steps = warmup;
  o.total_steps = total;
  o.min_lr_ratio = min_ratio;
  return o;
}

TEST(Schedule, LinearWarmupStartsAboveZeroThenConstant) {
  const auto o = schedule("constant", 4, 0, 0.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(0, o), 0.25);  // (0+1)/4
  EXPECT_DOUBLE_EQ(learning_rate_at(1, o), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate_at(3, o), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(1000, o), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(0, schedule("constant", 0, 0, 0.0)), 1.0);
}

TEST(Schedule, CosineDecaysToTheMinimumRatio) {
  // warmup 4, total 14, min .1: step 4 → 1; step 9 (progress .5) → .1 + .9·.5 = .55; step 14 → .1
  const auto o = schedule("cosine", 4, 14, 0.1);
  EXPECT_DOUBLE_EQ(learning_rate_at(3, o), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(4, o), 1.0);
  EXPECT_NEAR(learning_rate_at(9, o), 0.55, 1e-12);
  EXPECT_NEAR(learning_rate_at(14, o), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate_at(40, o), 0.1, 1e-12);  // held at the floor past the end
}

TEST(Schedule, BadSettingsAreErrors) {
  EXPECT_THROW(learning_rate_at(5, schedule("cosine", 4, 4, 0.0)), Error);
  EXPECT_THROW(learning_rate_at(0, schedule("constant", 0, 0, 1.5)), Error);
  try {
    learning_rate_at(0, schedule("cosin", 4, 14, 0.0));  // even during warmup
    FAIL() << "an unknown schedule must be an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown lr schedule 'cosin' (did you mean 'cosine'?); valid names: constant, cosine");
  }
}

TEST(AdamW, DecaysMatricesOnlyAndTakesTheTextbookFirstStep) {
  // First AdamW step: m̂ = g, v̂ = g², update = lr·g/(|g| + eps) ≈ lr·sign(g); decoupled decay
  // multiplies the matrix by (1 - lr·wd) first. lr .1, wd .1, g = .5:
  //   vector 1 → 1 - .1 = .9;  matrix 1 → 1·(1 - .01) - .1 = .89
  auto matrix = torch::ones({2, 2}).requires_grad_(true);
  auto vector = torch::ones({2}).requires_grad_(true);
  AdamWOptions o;
  o.lr = 0.1;
  AdamW opt(make_decay_groups({matrix, vector}, 0.1), o);
  ASSERT_EQ(opt.groups().size(), 2u);
  EXPECT_EQ(opt.groups()[0].params.size(), 1u);
  (matrix.sum() * 0.5 + vector.sum() * 0.5).backward();
  opt.step();
  EXPECT_NEAR(vector[0].item<float>(), 0.9, 1e-6);
  EXPECT_NEAR(matrix[0][0].item<float>(), 0.89, 1e-6);
}

TEST(AdamW, MatchesLibTorchsAdamWOverManySteps) {
  // The reference nobody here wrote: torch::optim::AdamW with the same settings and gradients.
  torch::manual_seed(3);
  auto ours = torch::randn({3, 4}).requires_grad_(true);
  auto theirs = ours.detach().clone().requires_grad_(true);
  AdamWOptions o;
  o.lr = 0.05;
  o.beta1 = 0.8;
  o.beta2 = 0.95;
  o.eps = 1e-6;
  AdamW opt(make_decay_groups({ours}, 0.1), o);
  torch::optim::AdamW reference({theirs}, torch::optim::AdamWOptions(0.05).betas({0.8, 0.95}).eps(1e-6).weight_decay(0.1));
  for (int step = 0; step < 7; ++step) {
    auto grad = torch::randn({3, 4});
    ours.mutable_grad() = grad.clone();
    theirs.mutable_grad() = grad.clone();
    opt.step();
    reference.step();
  }
  EXPECT_TRUE(torch::allclose(ours, theirs, 1e-6, 1e-6)) << (ours - theirs).abs().max().item<float>();
}

TEST(AdamW, SavedStateResumesExactlyAndWrongShapesNameTheFile) {
  auto p = torch::ones({4}).requires_grad_(true);
  AdamWOptions o;
  o.lr = 0.1;
  AdamW opt(make_decay_groups({p}, 0.0), o);
  for (int step = 0; step < 3; ++step) {
    p.mutable_grad() = torch::full({4}, 0.1f * static_cast<float>(step + 1));
    opt.step();
  }
  const auto path =
      (std::filesystem::temp_directory_path() / ("grpo_adamw_state_" + std::to_string(::getpid()))).string();
  opt.save(path);
  auto q = p.detach().clone().requires_grad_(true);
  AdamW resumed(make_decay_groups({q}, 0.0), o);
  resumed.load(path);
  EXPECT_EQ(resumed.steps_taken(), 3);
  p.mutable_grad() = torch::full({4}, -0.3f);
  q.mutable_grad() = torch::full({4}, -0.3f);
  opt.step();
  resumed.step();
  EXPECT_TRUE(torch::equal(p, q));

  auto other = torch::ones({5}).requires_grad_(true);
  AdamW wrong(make_decay_groups({other}, 0.0), o);
  try {
    wrong.load(path);
    FAIL() << "a state of another shape loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grpo_adamw_state_"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(AdamW, SetLearningRateTakesEffectOnTheNextStep) {
  auto a = torch::ones({2}).requires_grad_(true);
  AdamW opt(make_decay_groups({a}, 0.0), {});
  opt.set_lr(0.25);
  a.mutable_grad() = torch::ones({2});
  opt.step();
  EXPECT_NEAR(a[0].item<float>(), 0.75, 1e-6);
}

}  // namespace
}  // namespace grpo::rl
