// String helpers used in every error message with a suggestion.
#include <gtest/gtest.h>

#include "core/strings.h"

TEST(Strings, EditDistanceCountsInsertionsDeletionsSubstitutions) {
  EXPECT_EQ(grpo::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(grpo::edit_distance("", "abc"), 3u);
  EXPECT_EQ(grpo::edit_distance("same", "same"), 0u);
}

TEST(Strings, ClosestMatchSuggestsOnlyNearWords) {
  EXPECT_EQ(grpo::closest_match("math_acuracy", {"format", "math_accuracy", "countdown"}), "math_accuracy");
  EXPECT_EQ(grpo::closest_match("zzzzzzzz", {"format", "countdown"}), "");
  EXPECT_EQ(grpo::did_you_mean("fromat", {"format"}), " (did you mean 'format'?)");
}

TEST(Strings, SplitKeepsEmptyFieldsAndJoinInverts) {
  const auto parts = grpo::split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(grpo::join(parts, ","), "a,,b");
  EXPECT_EQ(grpo::trim("  x y \n"), "x y");
}

TEST(Strings, ParseDecimalTakesDigitsThatFitAndRefusesTheRest) {
  EXPECT_EQ(grpo::parse_decimal("0"), 0u);
  EXPECT_EQ(grpo::parse_decimal("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(grpo::parse_decimal("18446744073709551616"));
  EXPECT_FALSE(grpo::parse_decimal(""));
  EXPECT_FALSE(grpo::parse_decimal("-1"));
  EXPECT_FALSE(grpo::parse_decimal("12a"));
  EXPECT_FALSE(grpo::parse_decimal(" 1"));
}
