// Truncated / masked importance sampling between rollout and learner log-probs, hand-computed.
// Learner-minus-rollout log-ratios ln 2, ln 4, ln .5: token weights 2, 4, .5; their sum ln 4
// gives the sequence weight 4.
#include "rl/algorithms/rollout_correction.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace grpo::rl {
namespace {

torch::Tensor old_lp() { return torch::tensor({{std::log(2.0f), std::log(4.0f), std::log(0.5f)}}); }
torch::Tensor rollout_lp() { return torch::zeros({1, 3}); }
torch::Tensor mask() { return torch::ones({1, 3}); }

RolloutCorrectionResult run(const std::string& name, RolloutCorrectionOptions o = {}) {
  return rollout_correction(name, old_lp(), rollout_lp(), mask(), o);
}

void expect_weights(const RolloutCorrectionResult& r, float a, float b, float c) {
  EXPECT_NEAR(r.weights[0][0].item<float>(), a, 1e-5);
  EXPECT_NEAR(r.weights[0][1].item<float>(), b, 1e-5);
  EXPECT_NEAR(r.weights[0][2].item<float>(), c, 1e-5);
}

TEST(RolloutCorrection, TokenTruncateClampsEachToken) {
  expect_weights(run("token_truncate"), 2.0f, 3.0f, 0.5f);  // C_max 3
  RolloutCorrectionOptions o;
  o.clip_min = 0.6;
  expect_weights(run("token_truncate", o), 2.0f, 3.0f, 0.6f);
}

TEST(RolloutCorrection, TokenMaskZeroesTokensOutsideTheRange) {
  auto r = run("token_mask");
  expect_weights(r, 2.0f, 0.0f, 0.5f);
  EXPECT_NEAR(r.metrics.at("mismatch/clipped_frac").item<float>(), 1.0 / 3.0, 1e-6);
}

TEST(RolloutCorrection, SequenceLevelUsesTheProductOfTokenRatios) {
  expect_weights(run("sequence_truncate"), 3.0f, 3.0f, 3.0f);  // 2·4·.5 = 4 → 3
  expect_weights(run("sequence_mask"), 0.0f, 0.0f, 0.0f);      // 4 > 3 → masked
  RolloutCorrectionOptions wide;
  wide.clip_max = 5.0;
  expect_weights(run("sequence_mask", wide), 4.0f, 4.0f, 4.0f);
}

TEST(RolloutCorrection, MismatchMetrics) {
  auto r = run("token_truncate");
  // k1 = mean(rollout - old) = -(ln 2 + ln 4 + ln .5)/3 = -.462098
  EXPECT_NEAR(r.metrics.at("mismatch/k1").item<float>(), -0.462098, 1e-6);
  // k3 = mean(e^x - x - 1) over x = ln 2, ln 4, ln .5 = .704569
  EXPECT_NEAR(r.metrics.at("mismatch/k3").item<float>(), 0.704569, 1e-6);
  EXPECT_NEAR(r.metrics.at("mismatch/is_ratio_mean").item<float>(), 6.5 / 3.0, 1e-5);  // before bounds
  EXPECT_NEAR(r.metrics.at("mismatch/is_ratio_max").item<float>(), 4.0, 1e-5);
  EXPECT_NEAR(r.metrics.at("mismatch/is_ratio_min").item<float>(), 0.5, 1e-6);
}

TEST(RolloutCorrection, PaddingGetsZeroWeightAndIsIgnored) {
  auto m = torch::tensor({{1.0f, 0.0f, 1.0f}});
  auto r = rollout_correction("sequence_truncate", old_lp(), rollout_lp(), m, {});
  // only ln 2 + ln .5 = 0 counts → weight 1 on active tokens, 0 on padding
  expect_weights(r, 1.0f, 0.0f, 1.0f);
  EXPECT_FALSE(r.weights.requires_grad());
}

TEST(RolloutCorrection, BadBoundsAreAnError) {
  RolloutCorrectionOptions o;
  o.clip_min = 4.0;
  EXPECT_THROW(run("token_truncate", o), Error);
}

}  // namespace
}  // namespace grpo::rl
