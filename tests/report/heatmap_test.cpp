// Router heat maps: steps bucketed into columns, layers in numeric order (report/heatmap.h).
#include <gtest/gtest.h>

#include <cmath>

#include "report/heatmap.h"

using grpo::report::bucket_rows;
using grpo::report::kMaxColumns;

TEST(BucketRows, OneColumnPerStepWhenFewAndMissingCellsAreNan) {
  const auto map = bucket_rows("t", "layer", {"0", "1"}, {{{1, 0.5}, {2, 0.7}}, {{2, 0.1}, {3, 0.2}}});
  EXPECT_EQ(map.columns, (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(map.values.size(), 2u);
  EXPECT_DOUBLE_EQ(map.values[0][0], 0.5);
  EXPECT_DOUBLE_EQ(map.values[0][1], 0.7);
  EXPECT_TRUE(std::isnan(map.values[0][2]));
  EXPECT_TRUE(std::isnan(map.values[1][0]));
  EXPECT_DOUBLE_EQ(map.values[1][2], 0.2);
}

TEST(BucketRows, ManyStepsAreAveragedIntoAtMostMaxColumns) {
  std::vector<std::pair<int64_t, double>> row;
  for (int64_t s = 0; s < static_cast<int64_t>(2 * kMaxColumns); ++s) row.emplace_back(s, static_cast<double>(s));
  const auto map = bucket_rows("t", "layer", {"0"}, {row});
  ASSERT_EQ(map.columns.size(), kMaxColumns);
  EXPECT_EQ(map.columns[1], 2);
  EXPECT_DOUBLE_EQ(map.values[0][0], 0.5);  // steps 0 and 1
  EXPECT_DOUBLE_EQ(map.values[0][kMaxColumns - 1], (2.0 * kMaxColumns - 2 + 2.0 * kMaxColumns - 1) / 2);
}

TEST(LayerHeatmap, OrdersLayersByNumberAndIgnoresOtherMetrics) {
  grpo::report::RunData run;
  run.metrics["router/layer10/load_cv"] = {{1, 0.3, 0}};
  run.metrics["router/layer2/load_cv"] = {{1, 0.1, 0}};
  run.metrics["router/layer2/bias_norm"] = {{1, 9.0, 0}};
  run.metrics["router/layerx/load_cv"] = {{1, 5.0, 0}};
  run.metrics["router/rollout/layer3/load_cv"] = {{1, 7.0, 0}};
  const auto map = grpo::report::layer_heatmap(run, "router/", "load_cv");
  EXPECT_EQ(map.rows, (std::vector<std::string>{"2", "10"}));
  EXPECT_DOUBLE_EQ(map.values[0][0], 0.1);
  EXPECT_DOUBLE_EQ(map.values[1][0], 0.3);
  const auto rollout = grpo::report::layer_heatmap(run, "router/rollout/", "load_cv");
  EXPECT_EQ(rollout.rows, (std::vector<std::string>{"3"}));
  EXPECT_DOUBLE_EQ(rollout.values[0][0], 7.0);
}

TEST(ExpertLoadHeatmap, HasARowPerExpert) {
  const grpo::report::HistogramSeries loads = {{1, {0.5, 0.25, 0.25}}, {2, {0.4, 0.4, 0.2}}};
  const auto map = grpo::report::expert_load_heatmap("layer 0", loads);
  EXPECT_EQ(map.rows, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(map.columns, (std::vector<int64_t>{1, 2}));
  EXPECT_DOUBLE_EQ(map.values[2][1], 0.2);
}
