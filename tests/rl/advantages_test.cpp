// Advantage estimators against hand-computed values (expected numbers beside their formulas).
#include "rl/algorithms/advantages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace grpo::rl {
namespace {

std::vector<float> values(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kFloat32);
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

torch::Tensor rewards(std::vector<float> r) { return torch::tensor(r); }

AdvantageOptions groups_of(int64_t g, double eps = 0.0, RewardScaling s = RewardScaling::kGroup) {
  AdvantageOptions o;
  o.group_size = g;
  o.epsilon = eps;
  o.scaling = s;
  return o;
}

TEST(GrpoAdvantages, GroupZScoreUsesBesselCorrectedStd) {
  // group 1: r = 1,0,0,0; mean .25; std = sqrt((.75² + 3·.25²)/3) = .5 → 1.5, -.5, -.5, -.5
  // group 2: r = 1,1,0,0; mean .5;  std = sqrt(4·.25/3) = .57735 → ±.5/.57735 = ±.866025
  auto a = values(grpo_advantages(rewards({1, 0, 0, 0, 1, 1, 0, 0}), groups_of(4)).advantages);
  std::vector<float> expected = {1.5f, -0.5f, -0.5f, -0.5f, 0.866025f, 0.866025f, -0.866025f, -0.866025f};
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], expected[i], 1e-6) << i;
}

TEST(GrpoAdvantages, EpsilonIsAddedToTheStd) {
  // .75 / (.5 + 1e-6) = 1.499997; with eps .5: .75 / 1.0 = .75
  EXPECT_NEAR(values(grpo_advantages(rewards({1, 0, 0, 0}), groups_of(4, 1e-6)).advantages)[0], 1.499997,
              1e-6);
  EXPECT_NEAR(values(grpo_advantages(rewards({1, 0, 0, 0}), groups_of(4, 0.5)).advantages)[0], 0.75, 1e-6);
}

TEST(GrpoAdvantages, ZeroVarianceGroupGetsExactlyZero) {
  // 0.1f·3 / 3 is not exactly 0.1f in floating point; the estimator must still give 0, not noise.
  auto result = grpo_advantages(rewards({0.1f, 0.1f, 0.1f, 1, 0, 0}), groups_of(3, 1e-6));
  auto a = values(result.advantages);
  EXPECT_EQ(a[0], 0.0f);
  EXPECT_EQ(a[1], 0.0f);
  EXPECT_EQ(a[2], 0.0f);
  EXPECT_NEAR(a[3], 2.0 / 3.0 / (std::sqrt(1.0 / 3.0) + 1e-6), 1e-5);  // (1 - 1/3) / std(1,0,0)
  EXPECT_FLOAT_EQ(result.metrics.at("advantages/zero_std_frac").item<float>(), 0.5f);
}

TEST(GrpoAdvantages, BatchScalingDividesByTheWholeBatchStd) {
  // centred by group mean: 1,0 → ±.5; 1,1 → 0,0. batch std of (1,0,1,1): mean .75,
  // var = (3·.0625 + .5625)/3 = .25 → std .5 → advantages 1, -1, 0, 0
  auto a = values(grpo_advantages(rewards({1, 0, 1, 1}), groups_of(2, 0.0, RewardScaling::kBatch)).advantages);
  EXPECT_NEAR(a[0], 1.0, 1e-6);
  EXPECT_NEAR(a[1], -1.0, 1e-6);
  EXPECT_EQ(a[2], 0.0f);
  EXPECT_EQ(a[3], 0.0f);
}

TEST(GrpoAdvantages, NoScalingIsDrGrpoMeanCentering) {
  auto a = values(grpo_advantages(rewards({1, 0, 3, 1}), groups_of(2, 1e-6, RewardScaling::kNone)).advantages);
  EXPECT_NEAR(a[0], 0.5, 1e-7);  // 1 - .5
  EXPECT_NEAR(a[1], -0.5, 1e-7);
  EXPECT_NEAR(a[2], 1.0, 1e-7);  // 3 - 2
  EXPECT_NEAR(a[3], -1.0, 1e-7);
}

TEST(RlooAdvantages, RewardMinusMeanOfTheOthers) {
  // G/(G-1)·(r - mean): 4/3·(1 - .25) = 1 = 1 - mean(0,0,0); 4/3·(0 - .25) = -1/3 = 0 - mean(1,0,0)
  auto a = values(rloo_advantages(rewards({1, 0, 0, 0, 2, 2, 2, 2}), groups_of(4)).advantages);
  EXPECT_NEAR(a[0], 1.0, 1e-6);
  EXPECT_NEAR(a[1], -1.0 / 3.0, 1e-6);
  for (int i = 4; i < 8; ++i) EXPECT_EQ(a[i], 0.0f);
}

TEST(ReinforcePlusPlusBaseline, GroupCentredThenBatchWhitened) {
  // centred: .5, -.5, 1, -1; batch mean 0; var = (.25+.25+1+1)/4 · 4/3 = .833333
  // → .5/sqrt(.833333) = .547723, 1/sqrt(.833333) = 1.095445
  auto a = values(reinforce_plus_plus_baseline_advantages(rewards({1, 0, 2, 0}), groups_of(2)).advantages);
  EXPECT_NEAR(a[0], 0.547723, 1e-6);
  EXPECT_NEAR(a[1], -0.547723, 1e-6);
  EXPECT_NEAR(a[2], 1.095445, 1e-6);
  EXPECT_NEAR(a[3], -1.095445, 1e-6);
}

TEST(ReinforcePlusPlusBaseline, TokenCountsWeighTheWhitening) {
  // weights 1,1,2,2 (W = 6): mean (.5 - .5 + 2 - 2)/6 = 0; var = (.25+.25+2+2)/6 · 6/5 = .9
  // → .5/sqrt(.9) = .527046, 1/sqrt(.9) = 1.054093
  auto o = groups_of(2);
  o.token_counts = torch::tensor({1, 1, 2, 2});
  auto a = values(reinforce_plus_plus_baseline_advantages(rewards({1, 0, 2, 0}), o).advantages);
  EXPECT_NEAR(a[0], 0.527046, 1e-6);
  EXPECT_NEAR(a[2], 1.054093, 1e-6);
}

TEST(ReinforcePlusPlusBaseline, ZeroVarianceGroupStaysZeroAfterWhitening) {
  auto o = groups_of(2);
  o.token_counts = torch::tensor({1, 5, 2, 2});  // unequal weights shift the batch mean
  auto a = values(reinforce_plus_plus_baseline_advantages(rewards({1, 0, 3, 3}), o).advantages);
  EXPECT_EQ(a[2], 0.0f);
  EXPECT_EQ(a[3], 0.0f);
  EXPECT_NE(a[0], 0.0f);
}

TEST(AdvantageErrors, BadGroupingAndRewardsAreNamed) {
  EXPECT_THROW(grpo_advantages(rewards({1, 0}), groups_of(1)), Error);
  try {
    grpo_advantages(rewards({1, 0, 1}), groups_of(2));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rewards: 3 rows do not divide into groups of 2");
  }
  try {
    grpo_advantages(rewards({1, 0, std::numeric_limits<float>::quiet_NaN(), 1}), groups_of(2));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("rewards: row 2 is not finite", 0), 0u) << e.what();
  }
  EXPECT_THROW(parse_reward_scaling("std"), Error);
  EXPECT_EQ(parse_reward_scaling("none"), RewardScaling::kNone);
}

TEST(Advantages, RegistryDispatchesByName) {
  auto a = compute_advantages("rloo", rewards({1, 0}), groups_of(2)).advantages;
  EXPECT_NEAR(a[0].item<float>(), 1.0, 1e-6);  // 2·(1 - .5)
}

}  // namespace
}  // namespace grpo::rl
