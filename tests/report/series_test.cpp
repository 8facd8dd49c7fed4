// EMA smoothing, thinning and metric-name patterns of the report (report/series.h).
#include <gtest/gtest.h>

#include <cmath>

#include "report/series.h"

using grpo::report::ema;
using grpo::report::glob_match;
using grpo::report::thin;

TEST(Ema, IsDebiasedSoTheFirstPointEqualsItsValue) {
  // w = 0.5: averages 0.5, 1.25, 2.125 over kept shares 0.5, 0.25, 0.125:
  // 0.5/0.5 = 1, 1.25/0.75 = 1.6667, 2.125/0.875 = 2.428571.
  const auto s = ema({1, 2, 3}, 0.5);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s[0], 1.0);
  EXPECT_NEAR(s[1], 1.25 / 0.75, 1e-12);
  EXPECT_NEAR(s[2], 2.125 / 0.875, 1e-12);
}

TEST(Ema, SkipsNonFiniteValuesAndKeepsThemInPlace) {
  // The NaN neither enters the average nor counts: the third point is the 2-point average of
  // 1 and 3: (0.25 + 1.5) / 0.75 = 2.3333.
  const auto s = ema({1, NAN, 3}, 0.5);
  EXPECT_DOUBLE_EQ(s[0], 1.0);
  EXPECT_TRUE(std::isnan(s[1]));
  EXPECT_NEAR(s[2], 1.75 / 0.75, 1e-12);
}

TEST(Ema, WeightZeroReturnsTheValues) {
  const std::vector<double> v = {3, -1, 7.5};
  EXPECT_EQ(ema(v, 0.0), v);
}

TEST(Thin, KeepsFirstAndLastAndStridesEvenly) {
  std::vector<grpo::MetricPoint> points;
  for (int i = 0; i < 10; ++i) points.push_back({i, static_cast<double>(i * i), 0});
  const auto kept = thin(points, 4);
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[0].step, 0);
  EXPECT_EQ(kept[1].step, 3);
  EXPECT_EQ(kept[2].step, 6);
  EXPECT_EQ(kept[3].step, 9);
  EXPECT_EQ(thin(points, 20).size(), 10u);
}

TEST(GlobMatch, StarMatchesAnyRunIncludingSlashes) {
  EXPECT_TRUE(glob_match("reward/*/mean", "reward/format/mean"));
  EXPECT_TRUE(glob_match("reward/*/mean", "reward/a/b/mean"));
  EXPECT_FALSE(glob_match("reward/*/mean", "reward/total_mean"));
  EXPECT_TRUE(glob_match("aha/*", "aha/any_rate"));
  EXPECT_FALSE(glob_match("aha/*", "ahab/x"));
  EXPECT_TRUE(glob_match("perf/*tok*", "perf/rollout_tok_per_s"));
  EXPECT_FALSE(glob_match("perf/*tok*", "perf/step_s"));
  EXPECT_TRUE(glob_match("eval/pass@*", "eval/pass@1"));
  EXPECT_TRUE(glob_match("time/step_s", "time/step_s"));
  EXPECT_FALSE(glob_match("time/step_s", "time/step_s2"));
}
