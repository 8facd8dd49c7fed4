// The reward validation harness's arithmetic: the confusion matrix, agreement and the list of
// disagreeing cases of two labelings, and nearest-rank latency percentiles.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/label_agreement.h"

using grpo::rewards::compare_labels;
using grpo::rewards::summarize_latencies;

TEST(LabelAgreement, CountsEachCellOfTheConfusionMatrixAndListsDisagreements) {
  const auto a = compare_labels({true, true, false, false, true}, {true, false, true, false, true});
  EXPECT_EQ(a.both_pass, 2u);
  EXPECT_EQ(a.first_only, 1u);
  EXPECT_EQ(a.second_only, 1u);
  EXPECT_EQ(a.both_fail, 1u);
  EXPECT_DOUBLE_EQ(a.agreement(), 3.0 / 5.0);
  EXPECT_EQ(a.disagreeing, (std::vector<size_t>{1, 2}));
}

TEST(LabelAgreement, NoCasesAgreeFullyAndMismatchedLengthsAreAnError) {
  EXPECT_DOUBLE_EQ(compare_labels({}, {}).agreement(), 1.0);
  EXPECT_THROW(compare_labels({true}, {true, false}), grpo::Error);
}

TEST(LabelAgreement, LatencyPercentilesAreNearestRank) {
  std::vector<double> s;
  for (int i = 100; i >= 1; --i) s.push_back(i * 1e-3);  // 1 ms .. 100 ms, unsorted
  const auto l = summarize_latencies(s);
  EXPECT_DOUBLE_EQ(l.p50_s, 50e-3);
  EXPECT_DOUBLE_EQ(l.p99_s, 99e-3);
  EXPECT_DOUBLE_EQ(l.max_s, 100e-3);
  EXPECT_NEAR(l.mean_s, 50.5e-3, 1e-12);
  EXPECT_DOUBLE_EQ(summarize_latencies({7.0}).p99_s, 7.0);
  EXPECT_DOUBLE_EQ(summarize_latencies({}).p50_s, 0.0);
}
