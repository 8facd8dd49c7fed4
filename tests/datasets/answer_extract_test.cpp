// Gold-answer extraction from GSM8K and MATH solutions.
#include <gtest/gtest.h>

#include "datasets/answer_extract.h"

namespace grpo::datasets {
namespace {

TEST(Gsm8kFinalAnswer, TakesTheTextAfterTheLastHashesWithoutCommas) {
  EXPECT_EQ(gsm8k_final_answer("Step <<2*3=6>>6\n#### 6"), "6");
  EXPECT_EQ(gsm8k_final_answer("#### 1 #### 2,000,000 "), "2000000");
  EXPECT_EQ(gsm8k_final_answer("#### -3.5"), "-3.5");
}

TEST(Gsm8kFinalAnswer, IsAbsentWithoutHashesOrValue) {
  EXPECT_EQ(gsm8k_final_answer("The answer is 6"), std::nullopt);
  EXPECT_EQ(gsm8k_final_answer("####   "), std::nullopt);
}

TEST(LastBoxedAnswer, TakesTheLastBoxWithBalancedBraces) {
  EXPECT_EQ(last_boxed_answer("so \\boxed{1} or \\boxed{\\frac{a}{b^{2}}}."), "\\frac{a}{b^{2}}");
  EXPECT_EQ(last_boxed_answer("\\fbox{x+1}"), "x+1");
  EXPECT_EQ(last_boxed_answer("set $\\boxed{\\{1, 2\\}}$"), "\\{1, 2\\}");
}

TEST(LastBoxedAnswer, ANestedBoxBelongsToTheOuterOne) {
  EXPECT_EQ(last_boxed_answer("\\boxed{\\boxed{2} + 1}"), "\\boxed{2} + 1");
}

TEST(LastBoxedAnswer, AcceptsTheBracelessForm) { EXPECT_EQ(last_boxed_answer("is $\\boxed 5$."), "5"); }

TEST(LastBoxedAnswer, IsAbsentWithoutABoxOrWhenItNeverCloses) {
  EXPECT_EQ(last_boxed_answer("the answer is 5"), std::nullopt);
  EXPECT_EQ(last_boxed_answer("\\boxed{\\frac{1}{2}"), std::nullopt);
  EXPECT_EQ(last_boxed_answer("\\boxed{3} then \\boxed{4"), "3");
}

}  // namespace
}  // namespace grpo::datasets
