// math_accuracy: extraction order, normalization and equivalence, with hand-made cases whose
// expected verdicts are what a careful human grader would say.
#include <gtest/gtest.h>

#include "rewards/math/equivalence.h"
#include "rewards/math/expr.h"
#include "rewards/math/extract.h"
#include "rewards/math/normalize.h"
#include "core/error.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

using math::AnswerSource;

double score(const std::string& completion, const std::string& answer, const nlohmann::json& params = {}) {
  Sample s;
  s.completion = completion;
  s.answer = answer;
  return make_reward("math_accuracy", params)->score(s).value;
}

bool eq(const std::string& gold, const std::string& pred) { return math::answers_equivalent(gold, pred).equal; }

TEST(MathExtract, LastBoxWins) {
  const auto got = math::extract_answer("first \\boxed{3} then \\boxed{4}.", {AnswerSource::Boxed});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->text, "4");
}

TEST(MathExtract, NestedBracesInBox) {
  EXPECT_EQ(*math::last_boxed("so \\boxed{\\frac{1}{\\sqrt{2}}} done"), "\\frac{1}{\\sqrt{2}}");
  EXPECT_EQ(*math::last_boxed("\\fbox{7}"), "7");
  EXPECT_EQ(*math::last_boxed("\\boxed 12$"), "12");
}

TEST(MathExtract, UnbalancedLastBoxGivesNoBoxedAnswer) {
  EXPECT_FALSE(math::last_boxed("\\boxed{5} and then \\boxed{\\frac{1}{2"));
}

TEST(MathExtract, OrderIsConfigurable) {
  const std::string text = "<answer>7</answer> Answer: 8";
  EXPECT_EQ(math::extract_answer(text, {AnswerSource::AnswerTag, AnswerSource::AnswerLine})->text, "7");
  EXPECT_EQ(math::extract_answer(text, {AnswerSource::AnswerLine, AnswerSource::AnswerTag})->text, "8");
}

TEST(MathExtract, Gsm8kAndLastNumber) {
  EXPECT_EQ(math::extract_answer("so 3+4\n#### 1,234", {AnswerSource::Gsm8k})->text, "1234");
  EXPECT_EQ(math::extract_answer("it costs -12.5 dollars.", {AnswerSource::LastNumber})->text, "-12.5");
  EXPECT_EQ(math::extract_answer("ratio 3/4.", {AnswerSource::LastNumber})->text, "3/4");
  EXPECT_FALSE(math::extract_answer("no digits here", {AnswerSource::LastNumber}));
}

TEST(MathExtract, AnswerLineTakesTheBoxInside) {
  EXPECT_EQ(math::extract_answer("The final answer is $\\boxed{9}$.", {AnswerSource::AnswerLine})->text, "9");
  EXPECT_EQ(math::extract_answer("The answer is $12$.", {AnswerSource::AnswerLine})->text, "12");
}

TEST(MathExtract, ReferenceFromSolutionOrGsm8k) {
  EXPECT_EQ(math::extract_reference("We get \\boxed{\\frac{3}{4}}."), "\\frac{3}{4}");
  EXPECT_EQ(math::extract_reference("48/2 = 24\n#### 72"), "72");
  EXPECT_EQ(math::extract_reference(" 5 "), "5");
}

TEST(MathNormalize, StripsDecoration) {
  EXPECT_EQ(math::normalize_answer("\\left( 1, 2 \\right)"), "(1,2)");
  EXPECT_EQ(math::normalize_answer("\\dfrac{1}{2}"), "\\frac{1}{2}");
  EXPECT_EQ(math::normalize_answer("10\\text{ cm}"), "10");
  EXPECT_EQ(math::normalize_answer("45^\\circ"), "45");
  EXPECT_EQ(math::normalize_answer("50\\%"), "50");
  EXPECT_EQ(math::normalize_answer("1,000,000"), "1000000");
  EXPECT_EQ(math::normalize_answer("x = 5"), "5");
  EXPECT_EQ(math::normalize_answer("\\$12.50"), "12.50");
  EXPECT_EQ(math::normalize_answer("\\text{(B)}"), "B");
  EXPECT_EQ(math::normalize_answer("12 dollars."), "12");
}

TEST(MathNormalize, MixedNumbersBecomeSums) {
  EXPECT_EQ(math::normalize_answer("3\\frac{1}{2}"), "(3+\\frac{1}{2})");
  EXPECT_EQ(math::normalize_answer("3 1/2"), "(3+1/2)");
  EXPECT_TRUE(eq("3.5", "3\\frac{1}{2}"));
  EXPECT_TRUE(eq("-\\frac{7}{2}", "-3\\frac12"));
}

TEST(MathExpr, EvaluatesLatex) {
  auto value = [](const std::string& s) { return math::evaluate(*math::parse_expression(s), {}); };
  EXPECT_DOUBLE_EQ(value("\\frac{1}{2}+\\sqrt{16}"), 4.5);
  EXPECT_DOUBLE_EQ(value("2^{10}"), 1024);
  EXPECT_DOUBLE_EQ(value("2^10"), 1024);
  EXPECT_DOUBLE_EQ(value("\\frac12"), 0.5);
  EXPECT_DOUBLE_EQ(value("3\\cdot 4 - 2\\times 5"), 2);
  EXPECT_DOUBLE_EQ(value("\\sqrt[3]{27}"), 3);
  EXPECT_DOUBLE_EQ(value("1.5e3"), 1500);
  EXPECT_DOUBLE_EQ(value("5!"), 120);
  EXPECT_NEAR(value("2\\pi"), 6.283185307, 1e-9);
  EXPECT_DOUBLE_EQ(value("-2^2"), -4);
  EXPECT_DOUBLE_EQ(value("|3-5|"), 2);
  EXPECT_FALSE(math::parse_expression("\\unknowncommand{3}"));
  EXPECT_FALSE(math::parse_expression("3 +"));
}

TEST(MathExpr, ExactRationals) {
  const auto r = math::evaluate_exact(*math::parse_expression("\\frac{1}{3}+\\frac{1}{6}"));
  ASSERT_TRUE(r);
  EXPECT_EQ(static_cast<long>(r->num), 1);
  EXPECT_EQ(static_cast<long>(r->den), 2);
}

TEST(MathEquivalence, Numbers) {
  EXPECT_TRUE(eq("0.5", "\\frac{1}{2}"));
  EXPECT_TRUE(eq("2.50", "2.5"));
  EXPECT_TRUE(eq("1000", "1,000"));
  EXPECT_TRUE(eq("1.2\\times10^{3}", "1200"));
  EXPECT_TRUE(eq("\\sqrt{8}", "2\\sqrt{2}"));
  EXPECT_TRUE(eq("\\frac{\\pi}{2}", "\\pi/2"));
  EXPECT_TRUE(eq("\\frac{1}{3}", "0.333333"));  // math-verify's 6-digit rounding
  EXPECT_FALSE(eq("\\frac{1}{3}", "0.33"));
  EXPECT_FALSE(eq("100", "100.0001"));
  EXPECT_FALSE(eq("3", "-3"));
}

TEST(MathEquivalence, ToleranceIsSixDecimalPlacesAndIntegersAreExact) {
  EXPECT_TRUE(eq("0.5", "0.5000001"));       // math-verify rounds both to 6 decimals
  EXPECT_FALSE(eq("123456.789", "123456.7891"));  // absolute, not relative to the size
  EXPECT_TRUE(eq("94", "94.0"));
  EXPECT_FALSE(eq("94", "94.0000001"));      // an integer is exact on either side
  EXPECT_FALSE(eq("94.0000001", "94"));
  EXPECT_TRUE(eq("\\sqrt{2}", "1.414214"));
  EXPECT_FALSE(eq("\\sqrt{2}", "1.41"));
  EXPECT_TRUE(eq("4.4\\times 10^{5}", "440000"));
}

TEST(MathEquivalence, PercentReadsAsTheNumberAndAsHundredths) {
  EXPECT_TRUE(eq("94\\%", "0.94"));
  EXPECT_TRUE(eq("0.94", "94\\%"));
  EXPECT_TRUE(eq("94", "94\\%"));
  EXPECT_TRUE(eq("12.5\\%", "\\frac{1}{8}"));
  EXPECT_FALSE(eq("94", "0.94"));  // no percent sign: no hundredths
  EXPECT_FALSE(eq("94\\%", "0.95"));
}

TEST(MathEquivalence, PlusMinusIsBothAnswers) {
  EXPECT_TRUE(eq("\\pm 3", "3, -3"));
  EXPECT_TRUE(eq("\\pm 3", "-3, 3"));
  EXPECT_TRUE(eq("x = \\pm 3", "\\pm3"));
  EXPECT_TRUE(eq("1 \\pm \\sqrt{2}", "1-\\sqrt{2}, 1+\\sqrt{2}"));
  EXPECT_TRUE(eq("\\frac{-1 \\pm \\sqrt{5}}{2}", "\\frac{-1+\\sqrt{5}}{2}, \\frac{-1-\\sqrt{5}}{2}"));
  EXPECT_FALSE(eq("\\pm 3", "3"));
  EXPECT_FALSE(eq("3", "\\pm 3"));
  EXPECT_FALSE(eq("1 \\pm \\sqrt{2}", "1+\\sqrt{2}"));
}

TEST(MathEquivalence, InequalitiesAreIntervals) {
  EXPECT_TRUE(eq("x > 4", "(4, \\infty)"));
  EXPECT_TRUE(eq("(4, \\infty)", "x > 4"));  // math-verify says no in this direction; see docs
  EXPECT_TRUE(eq("x \\ge 4", "[4, \\infty)"));
  EXPECT_TRUE(eq("x \\leq -2", "(-\\infty, -2]"));
  EXPECT_TRUE(eq("-1 < x \\le 5", "(-1, 5]"));
  EXPECT_TRUE(eq("5 \\geq x > -1", "(-1, 5]"));
  EXPECT_TRUE(eq("x > 4", "4 < x"));
  EXPECT_TRUE(eq("x \\geq 4", "x \\ge 4"));
  EXPECT_TRUE(eq("x ≥ 4", "x>=4"));
  EXPECT_FALSE(eq("x > 4", "[4, \\infty)"));
  EXPECT_FALSE(eq("x > 4", "x < 4"));
  EXPECT_FALSE(eq("x > 4", "4"));
  EXPECT_TRUE(eq("a < b", "a<b"));   // two variables: compared as written, not as an interval
  EXPECT_FALSE(eq("a < b", "b < a"));
}

TEST(MathEquivalence, UnitsWordsAndListsWithAnd) {
  EXPECT_TRUE(eq("137", "137\\text{ cm}^2"));
  EXPECT_TRUE(eq("94", "94 apples"));
  EXPECT_TRUE(eq("94", "94 red apples"));
  EXPECT_TRUE(eq("2\\pi", "2 pi"));  // "pi" is mathematics, not a trailing noun
  EXPECT_FALSE(eq("2", "2 pi"));
  EXPECT_TRUE(eq("-2, 4", "-2 \\text{ and } 4"));
  EXPECT_TRUE(eq("1, 2, 3", "1, 2, and 3"));
  EXPECT_FALSE(eq("4", "2 and 4"));
}

TEST(MathEquivalence, TupleIsNotASet) {
  EXPECT_FALSE(eq("(1, 2)", "\\{1, 2\\}"));  // math-verify says yes; see docs
  EXPECT_TRUE(eq("(1, 2)", "(1,2)"));
}

TEST(MathEquivalence, HugeIntegersCompareExactly) {
  EXPECT_TRUE(eq("123456789012345678901234567890", "123456789012345678901234567890"));
  EXPECT_FALSE(eq("123456789012345678901234567890", "123456789012345678901234567891"));
  EXPECT_FALSE(eq("100000000000000000000", "100000000000000000001"));
}

TEST(MathEquivalence, TuplesIntervalsSets) {
  EXPECT_TRUE(eq("(1, 2)", "(1,2)"));
  EXPECT_FALSE(eq("(1, 2)", "(2, 1)"));
  EXPECT_TRUE(eq("[1, 2)", "[1,2)"));
  EXPECT_FALSE(eq("[1, 2)", "[1, 2]"));
  EXPECT_TRUE(eq("(-\\infty, 3]", "(-\\infty,3]"));
  EXPECT_TRUE(eq("\\{1, 2, 3\\}", "\\{3, 1, 2\\}"));
  EXPECT_TRUE(eq("1, 2", "2, 1"));
  EXPECT_FALSE(eq("1, 2", "1, 2, 3"));
  EXPECT_TRUE(eq("(0,1) \\cup (2,3)", "(2,3)\\cup(0,1)"));
  EXPECT_TRUE(eq("(\\frac{1}{2}, 3)", "(0.5, 3)"));
}

TEST(MathEquivalence, AlgebraicExpressionsByEvaluation) {
  EXPECT_TRUE(eq("x^2+2x+1", "(x+1)^2"));
  EXPECT_TRUE(eq("\\frac{x}{2}", "0.5x"));
  EXPECT_TRUE(eq("2(a+b)", "2a+2b"));
  EXPECT_FALSE(eq("x^2+1", "x^2-1"));
  EXPECT_FALSE(eq("x", "y"));
  EXPECT_TRUE(eq("y = 2x+3", "3+2x"));
  EXPECT_TRUE(eq("\\sin^2 x + \\cos^2 x", "1"));
}

TEST(MathEquivalence, TextAnswers) {
  EXPECT_TRUE(eq("\\text{B}", "B"));
  EXPECT_TRUE(eq("(C)", "C"));
  EXPECT_TRUE(eq("\\text{Monday}", "monday"));
  EXPECT_FALSE(eq("\\text{Monday}", "Tuesday"));
}

TEST(MathAccuracy, ScoresCorrectWrongAndMissing) {
  EXPECT_EQ(score("<think>2+2</think> The answer is \\boxed{4}.", "4"), 1.0);
  EXPECT_EQ(score("<think>2+2</think> \\boxed{5}", "4"), 0.0);
  EXPECT_EQ(score("<think>no idea</think> I give up", "4", {{"extract", {"boxed"}}}), 0.0);
  EXPECT_EQ(score("\\boxed{5}", "4", {{"wrong", -1.0}}), -1.0);
  EXPECT_EQ(score("#### 72", "Natalia sold 48/2 = 24 clips.\n#### 72"), 1.0);
}

TEST(MathAccuracy, AnswerHiddenInReasoningDoesNotCount) {
  EXPECT_EQ(score("<think>maybe \\boxed{4}</think><answer>5</answer>", "4"), 0.0);
  EXPECT_EQ(score("<think>maybe \\boxed{4}</think><answer>4</answer>", "4"), 1.0);
  // Reasoning that never closes has no answer at all, whatever it contains.
  EXPECT_EQ(score("<think>the answer is \\boxed{4}", "4"), 0.0);
  EXPECT_EQ(score("<think>maybe \\boxed{4}</think><answer>5</answer>", "4", {{"after_think", false}}), 1.0);
}

TEST(MathAccuracy, TruncatedCompletionHasNoBoxedAnswer) {
  // The last box is cut off: the reward must not fall back to an earlier box.
  EXPECT_EQ(score("first \\boxed{4}, no wait \\boxed{\\frac{7", "4", {{"extract", {"boxed"}}}), 0.0);
}

TEST(MathAccuracy, UnknownParamIsNamed) {
  try {
    make_reward("math_accuracy", {{"tolerence", 1e-3}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'tolerence'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tolerance"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_reward("math_accuracy", {{"extract", {"boxed", "lastnumber"}}}), Error);
}

}  // namespace
}  // namespace grpo::rewards
