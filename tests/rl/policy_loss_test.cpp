// PPO-clip, clip-higher, dual-clip and GSPO against hand-computed per-token losses, metrics and
// gradients. Ratios are set through old_logprobs = log(1) - log(r), logprobs = 0.
#include "rl/algorithms/policy_loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace grpo::rl {
namespace {

// One row of tokens whose ratios π/π_old are `ratios`.
PolicyLossInput with_ratios(const std::vector<double>& ratios, double advantage) {
  std::vector<float> old;
  for (double r : ratios) old.push_back(static_cast<float>(-std::log(r)));
  const auto t = static_cast<int64_t>(ratios.size());
  PolicyLossInput in;
  in.logprobs = torch::zeros({1, t}).requires_grad_(true);
  in.old_logprobs = torch::tensor(old).view({1, t});
  in.advantages = torch::full({1}, advantage);
  in.mask = torch::ones({1, t});
  return in;
}

float at(const PerTokenLoss& l, int64_t t) { return l.loss[0][t].item<float>(); }
float metric(const PerTokenLoss& l, const std::string& key) { return l.metrics.at(key).item<float>(); }

TEST(PpoClip, PositiveAdvantageIsCappedAtOnePlusEpsilon) {
  // A = 1, eps .2: l = max(-r, -clip(r, .8, 1.2)) = -min(r, clip) → -.5, -.9, -1.1, -1.2
  PolicyLossOptions o;
  auto l = ppo_clip_loss(with_ratios({0.5, 0.9, 1.1, 1.5}, 1.0), o);
  EXPECT_NEAR(at(l, 0), -0.5, 1e-6);
  EXPECT_NEAR(at(l, 1), -0.9, 1e-6);
  EXPECT_NEAR(at(l, 2), -1.1, 1e-6);
  EXPECT_NEAR(at(l, 3), -1.2, 1e-6);
  EXPECT_FLOAT_EQ(metric(l, "actor/clip_frac_high"), 0.25f);  // only r = 1.5 > 1.2 with A > 0
  EXPECT_FLOAT_EQ(metric(l, "actor/clip_frac_low"), 0.0f);
  // ppo_kl = mean(old - new) = -mean(log r) = -(ln .5 + ln .9 + ln 1.1 + ln 1.5)/4 = .074433
  EXPECT_NEAR(metric(l, "actor/ppo_kl"), 0.074433, 1e-6);
}

TEST(PpoClip, NegativeAdvantageIsFlooredAtOneMinusEpsilon) {
  // A = -1: l = max(r, clip(r)) → .8, .9, 1.1, 1.5
  auto l = ppo_clip_loss(with_ratios({0.5, 0.9, 1.1, 1.5}, -1.0), {});
  EXPECT_NEAR(at(l, 0), 0.8, 1e-6);
  EXPECT_NEAR(at(l, 3), 1.5, 1e-6);
  EXPECT_FLOAT_EQ(metric(l, "actor/clip_frac_low"), 0.25f);  // r = .5 < .8 with A < 0
  EXPECT_FLOAT_EQ(metric(l, "actor/clip_frac_high"), 0.0f);
}

TEST(PpoClip, ClipHigherRaisesOnlyTheUpperBound) {
  // DAPO: eps_low .2, eps_high .28 → r = 1.5 is capped at 1.28; r = .5 with A < 0 still at .8
  PolicyLossOptions o;
  o.epsilon_high = 0.28;
  EXPECT_NEAR(at(ppo_clip_loss(with_ratios({1.5}, 1.0), o), 0), -1.28, 1e-6);
  EXPECT_NEAR(at(ppo_clip_loss(with_ratios({0.5}, -1.0), o), 0), 0.8, 1e-6);
}

TEST(PpoClip, DualClipBoundsTheNegativeAdvantageLoss) {
  // A = -1, c = 3: max(r, clip) = .8, 2, 4, 10 → min(·, 3) = .8, 2, 3, 3
  PolicyLossOptions o;
  o.dual_clip_c = 3.0;
  auto l = ppo_clip_loss(with_ratios({0.5, 2.0, 4.0, 10.0}, -1.0), o);
  EXPECT_NEAR(at(l, 0), 0.8, 1e-6);
  EXPECT_NEAR(at(l, 1), 2.0, 1e-5);
  EXPECT_NEAR(at(l, 2), 3.0, 1e-6);
  EXPECT_NEAR(at(l, 3), 3.0, 1e-6);
  EXPECT_FLOAT_EQ(metric(l, "actor/clip_frac_dual"), 0.5f);  // r = 4, 10 > c
  EXPECT_FLOAT_EQ(metric(l, "actor/clip_frac_low"), 0.25f);
  // Positive advantages are untouched by the dual clip: r = 10, A = 1 → -1.2
  EXPECT_NEAR(at(ppo_clip_loss(with_ratios({10.0}, 1.0), o), 0), -1.2, 1e-6);
}

TEST(PpoClip, GradientFlowsOnlyThroughUnclippedTokens) {
  // d(-A·r)/d logp = -A·r for the unclipped r = .9; 0 for the clipped r = 1.5 (A = 1)
  auto in = with_ratios({0.9, 1.5}, 1.0);
  ppo_clip_loss(in, {}).loss.sum().backward();
  EXPECT_NEAR(in.logprobs.grad()[0][0].item<float>(), -0.9, 1e-6);
  EXPECT_EQ(in.logprobs.grad()[0][1].item<float>(), 0.0f);
}

TEST(PpoClip, LogRatioIsClampedBeforeExp) {
  // logp - old = 50 → clamped to 20 → r = e^20 = 4.85165e8; A = -1 → l = r
  PolicyLossInput in = with_ratios({1.0}, -1.0);
  in.old_logprobs = torch::full({1, 1}, -50.0);
  EXPECT_NEAR(at(ppo_clip_loss(in, {}), 0) / 4.85165195e8, 1.0, 1e-6);
}

TEST(PpoClip, PerTokenAdvantagesAreAccepted) {
  auto in = with_ratios({1.0, 1.0}, 0.0);
  in.advantages = torch::tensor({{2.0f, -3.0f}});
  auto l = ppo_clip_loss(in, {});
  EXPECT_NEAR(at(l, 0), -2.0, 1e-6);
  EXPECT_NEAR(at(l, 1), 3.0, 1e-6);
}

TEST(Gspo, SequenceRatioIsTheGeometricMeanOverMaskedTokens) {
  // log ratios .2, -.1 and a masked 7: mean .05 → r = e^.05 = 1.051271 on every token;
  // A = 1, eps .2 → unclipped, l = -1.051271. d(mean_t l)/d logp_t = -r/2 = -.525636 for t in mask.
  PolicyLossInput in;
  in.logprobs = torch::tensor({{0.2f, -0.1f, 7.0f}}).requires_grad_(true);
  in.old_logprobs = torch::zeros({1, 3});
  in.advantages = torch::ones({1});
  in.mask = torch::tensor({{1.0f, 1.0f, 0.0f}});
  auto l = gspo_loss(in, {});
  EXPECT_NEAR(at(l, 0), -1.051271, 1e-6);
  EXPECT_NEAR(at(l, 1), -1.051271, 1e-6);
  (l.loss * in.mask).sum().div(2.0).backward();
  EXPECT_NEAR(in.logprobs.grad()[0][0].item<float>(), -0.525636, 1e-6);
  EXPECT_NEAR(in.logprobs.grad()[0][1].item<float>(), -0.525636, 1e-6);
  EXPECT_EQ(in.logprobs.grad()[0][2].item<float>(), 0.0f);
}

TEST(Gspo, WholeSequenceIsClippedTogether) {
  // log ratios .5, .3 → mean .4 → r = e^.4 = 1.4918 > 1.2 with A = 1 → every token -1.2, clipped
  PolicyLossInput in;
  in.logprobs = torch::tensor({{0.5f, 0.3f}});
  in.old_logprobs = torch::zeros({1, 2});
  in.advantages = torch::ones({1});
  in.mask = torch::ones({1, 2});
  auto l = gspo_loss(in, {});
  EXPECT_NEAR(at(l, 0), -1.2, 1e-6);
  EXPECT_NEAR(at(l, 1), -1.2, 1e-6);
  EXPECT_FLOAT_EQ(metric(l, "actor/clip_frac_high"), 1.0f);
  // ppo_kl stays token-level: -(.5 + .3)/2
  EXPECT_NEAR(metric(l, "actor/ppo_kl"), -0.4, 1e-6);
}

TEST(PolicyLossErrors, ShapesAndOptionsAreChecked) {
  auto in = with_ratios({1.0, 1.0}, 1.0);
  in.advantages = torch::ones({3});
  try {
    ppo_clip_loss(in, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "advantages: expected shape [1], got [3]");
  }
  PolicyLossOptions o;
  o.dual_clip_c = 0.5;
  EXPECT_THROW(ppo_clip_loss(with_ratios({1.0}, 1.0), o), Error);
}

}  // namespace
}  // namespace grpo::rl
