// Hostile inputs for the text rewards: 1 MB completions, inputs shaped to trigger
// catastrophic backtracking in a regex engine (none is used), deep nesting, huge numbers.
// Each must finish promptly (ctest's timeout is the bound) and give the sensible verdict.
#include <gtest/gtest.h>

#include <string>

#include "rewards/countdown_eval.h"
#include "rewards/math/equivalence.h"
#include "rewards/math/expr.h"
#include "rewards/math/normalize.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

std::string repeat(const std::string& unit, size_t bytes) {
  std::string out;
  out.reserve(bytes + unit.size());
  while (out.size() < bytes) out += unit;
  return out;
}

constexpr size_t kMegabyte = size_t{1} << 20;

double score(const std::string& reward, const std::string& completion, const std::string& answer = "4",
             nlohmann::json extra = nlohmann::json::object()) {
  Sample s;
  s.completion = completion;
  s.answer = answer;
  s.extra = std::move(extra);
  return make_reward(reward, nlohmann::json::object())->score(s).value;
}

TEST(MathAdversarial, MegabyteOfUnclosedBoxesThenTheAnswer) {
  const std::string text = repeat("\\boxed{", kMegabyte) + "} and finally \\boxed{4}";
  EXPECT_EQ(score("math_accuracy", text), 1.0);
}

TEST(MathAdversarial, MegabyteOfBacktrackingBait) {
  // Classic (a+)+b bait for "Answer:\s*(.*)"-style patterns: long runs that almost match.
  const std::string bait = repeat("answer answer: answer is  \t", kMegabyte) + "\nno final line";
  EXPECT_EQ(score("math_accuracy", bait), 0.0);
  const std::string digits = repeat("1,", kMegabyte) + "x";
  EXPECT_EQ(score("math_accuracy", digits, "1"), 1.0);  // last number fallback finds the last "1"
}

TEST(MathAdversarial, MegabyteAnswerIsRejectedNotParsed) {
  const std::string text = "\\boxed{" + repeat("1+", kMegabyte) + "1}";
  Sample s;
  s.completion = text;
  s.answer = "4";
  const auto r = make_reward("math_accuracy", nlohmann::json::object())->score(s);
  EXPECT_EQ(r.value, 0.0);
  EXPECT_NE(r.reason.find("max_answer_chars"), std::string::npos) << r.reason;
}

TEST(MathAdversarial, DeepNestingFailsToParseInsteadOfOverflowing) {
  EXPECT_FALSE(math::parse_expression(std::string(100000, '(') + "1" + std::string(100000, ')')));
  EXPECT_FALSE(math::parse_expression(std::string(100000, '-') + "1"));
  EXPECT_FALSE(math::parse_expression(repeat("x", 100000)));  // more nodes than the cap
  EXPECT_FALSE(math::answers_equivalent(std::string(3000, '(') + "1,2" + std::string(3000, ')'), "(1,2)").equal);
}

TEST(MathAdversarial, HugeNumbers) {
  EXPECT_TRUE(math::answers_equivalent(std::string(400, '9'), std::string(400, '9')).equal);
  EXPECT_FALSE(math::answers_equivalent(std::string(400, '9'), std::string(399, '9') + "8").equal);
  EXPECT_FALSE(math::answers_equivalent("10^{400}", "10^{401}").equal);  // both overflow to inf? must not be equal
  EXPECT_FALSE(math::answers_equivalent("1", "1e999999").equal);
}

TEST(MathAdversarial, NormalizationIsTotalOnGarbage) {
  for (const std::string s : {"\\text{", "\\boxed{\\boxed{", "}}}}", "\\frac{", "$$$", "x=", "=", ",,,", "\\left",
                              "1,000,", "-", "3 1/", "\\sqrt[", "^^^", "\\\\\\"}) {
    EXPECT_NO_THROW(math::normalize_answer(s)) << s;
    EXPECT_NO_THROW(math::answers_equivalent(s, s + "1")) << s;
  }
}

TEST(TextAdversarial, MegabyteCompletionsForEveryTextReward) {
  const std::string text = repeat("<think>\n word 字 ", kMegabyte);
  EXPECT_EQ(score("format", text), 0.0);
  EXPECT_EQ(score("tag_count", text), 0.0);
  EXPECT_GE(score("language_consistency", text), 0.0);
  EXPECT_LT(score("repetition_penalty", text), -0.9);
  const nlohmann::json countdown = {{"numbers", {1, 2, 3}}, {"target", 6}};
  EXPECT_EQ(score("countdown", repeat("<answer>", kMegabyte) + "1+2+3</answer>", "", countdown), 1.0);
  EXPECT_EQ(score("countdown", "<answer>" + repeat("(", kMegabyte) + "</answer>", "", countdown), 0.1);
}

TEST(CountdownAdversarial, OverflowIsUnevaluableNotWrapped) {
  const auto r = evaluate_countdown_equation(repeat("99999999999*", 400) + "1");
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.error, "overflow");
}

}  // namespace
}  // namespace grpo::rewards
