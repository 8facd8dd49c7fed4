// The groups of a batch: row ↔ group arithmetic, the checks on the batch size, and the one
// zero-variance predicate behind advantages/zero_std_frac and groups/zero_std_frac.
#include "rl/algorithms/groups.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "tests/common/error_of.h"

namespace grpo::rl {
namespace {

using grpo::testing::error_of;

std::vector<bool> bools(const torch::Tensor& t) {
  std::vector<bool> out;
  for (int64_t i = 0; i < t.size(0); ++i) out.push_back(t[i].item<bool>());
  return out;
}

TEST(Groups, RowsOfAPromptAreConsecutive) {
  const Groups groups(12, 4);
  EXPECT_EQ(groups.count(), 3);
  EXPECT_EQ(groups.size(), 4);
  EXPECT_EQ(groups.rows(), 12);
  EXPECT_EQ(groups.group_of(0), 0);
  EXPECT_EQ(groups.group_of(7), 1);  // rows 4..7 are prompt 1
  EXPECT_EQ(groups.index_in_group(7), 3);
  EXPECT_EQ(groups.group_of(8), 2);
  EXPECT_EQ(groups.index_in_group(8), 0);
  EXPECT_EQ(groups.first_row(2), 8);
}

TEST(Groups, ByGroupPutsEachPromptOnARow) {
  const auto grouped = Groups(6, 3).by_group(torch::arange(6));
  ASSERT_EQ(grouped.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(grouped[1][0].item<int64_t>(), 3);
  EXPECT_EQ(grouped[0][2].item<int64_t>(), 2);
  EXPECT_THROW(Groups(6, 3).by_group(torch::arange(4)), Error);
}

TEST(Groups, BadSizesNameTheBatchAndWhatWasExpected) {
  EXPECT_EQ(error_of([] { Groups(3, 2, "rewards"); }), "rewards: 3 rows do not divide into groups of 2");
  EXPECT_EQ(error_of([] { Groups(0, 2); }), "batch: 0 rows do not divide into groups of 2");
  EXPECT_EQ(error_of([] { Groups(4, 1); }), "group_size: expected at least 2 completions per prompt, got 1");
}

TEST(Groups, ZeroVarianceMeansEveryValueOfTheGroupIsEqual) {
  const Groups groups(9, 3);
  // 0.1 three times: equal, although their float mean is not exactly 0.1; a difference of one
  // part in 1e12 is still variance (float64 compares exactly).
  const auto flat = groups.zero_variance(
      torch::tensor(std::vector<double>{0.1, 0.1, 0.1, 1, 0, 0, 0.5, 0.5, 0.5 + 1e-12}, torch::kFloat64));
  EXPECT_EQ(bools(flat), (std::vector<bool>{true, false, false}));
}

TEST(Groups, ZeroVarianceComparesInTheValuesDtype) {
  // 1 and 1 + 1e-12 are different doubles but the same float.
  const std::vector<double> values{1.0, 1.0 + 1e-12};
  EXPECT_FALSE(Groups(2, 2).zero_variance(torch::tensor(values, torch::kFloat64))[0].item<bool>());
  EXPECT_TRUE(Groups(2, 2).zero_variance(torch::tensor(values, torch::kFloat64).to(torch::kFloat32))[0].item<bool>());
}

}  // namespace
}  // namespace grpo::rl
