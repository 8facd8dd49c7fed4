// format, tag_count and countdown against hand-checked completions.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/countdown_eval.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

RewardResult run(const std::string& reward, const std::string& completion, const nlohmann::json& params = {},
                 const nlohmann::json& extra = nlohmann::json::object(), const std::string& prompt = "") {
  Sample s;
  s.prompt = prompt;
  s.completion = completion;
  s.extra = extra;
  return make_reward(reward, params)->score(s);
}

TEST(Format, StrictNeedsOpenR1Shape) {
  EXPECT_EQ(run("format", "<think>\nreason\n</think>\n<answer>\n42\n</answer>").value, 1.0);
  EXPECT_EQ(run("format", "<think>reason</think><answer>42</answer>").value, 0.0);
  EXPECT_EQ(run("format", "<think>\nreason\n</think>\n<answer>\n42\n</answer>\ntrailing").value, 0.0);
  EXPECT_EQ(run("format", "<think>\na\n</think>\n<think>\nb\n</think>\n<answer>\n42\n</answer>").value, 0.0);
}

TEST(Format, LenientAllowsWhitespaceAndPreamble) {
  const nlohmann::json lenient = {{"mode", "lenient"}};
  EXPECT_EQ(run("format", "Sure. <think>reason</think>  <answer>42</answer>\n", lenient).value, 1.0);
  EXPECT_EQ(run("format", "<answer>42</answer><think>reason</think>", lenient).value, 0.0);
  EXPECT_EQ(run("format", "<think>reason</think> so <answer>42</answer>", lenient).value, 0.0);
  EXPECT_EQ(run("format", "<think>reason</think><answer> </answer>", lenient).value, 0.0);
  EXPECT_THROW(make_reward("format", {{"mode", "loose"}}), Error);
}

TEST(Format, PromptThatOpensThinkCountsAsTheOpeningTag) {
  const std::string prompt = "User: 2+2?\nAssistant: Let me solve this step by step.\n<think>";
  EXPECT_EQ(run("format", " 2+2=4 </think> <answer>4</answer>", {{"mode", "lenient"}}, {}, prompt).value, 1.0);
  EXPECT_EQ(run("format", "\nfour\n</think>\n<answer>\n4\n</answer>", {}, {}, prompt).value, 1.0);
}

TEST(TagCount, QuarterPerWellPlacedTag) {
  EXPECT_EQ(run("tag_count", "<think>\nr\n</think>\n<answer>\n4\n</answer>").value, 1.0);
  EXPECT_EQ(run("tag_count", "<think>\nr</think><answer>4</answer>").value, 0.25);
  EXPECT_EQ(run("tag_count", "<think>\nr\n</think>\n<answer>\n4</answer>").value, 0.75);
  EXPECT_EQ(run("tag_count", "nothing").value, 0.0);
}

const nlohmann::json kTask = {{"numbers", {44, 19, 35}}, {"target", 98}};

TEST(Countdown, TinyZeroScores) {
  EXPECT_EQ(run("countdown", "<answer>44 + 19 + 35</answer>", {}, kTask).value, 1.0);
  EXPECT_EQ(run("countdown", "<answer>(44 - 35) * 19</answer>", {}, kTask).value, 0.1);   // 171
  EXPECT_EQ(run("countdown", "<answer>44 + 19 + 35 + 1</answer>", {}, kTask).value, 0.1);  // extra number
  EXPECT_EQ(run("countdown", "<answer>44 + 54</answer>", {}, kTask).value, 0.1);           // wrong numbers
  EXPECT_EQ(run("countdown", "<answer>44 + 19 + 35 = 98</answer>", {}, kTask).value, 0.1);  // '=' is not allowed
  EXPECT_EQ(run("countdown", "the answer is 44+19+35", {}, kTask).value, 0.0);
  EXPECT_EQ(run("countdown", "<answer>1+1</answer> then <answer>35+19+44</answer>", {}, kTask).value, 1.0);
  EXPECT_EQ(run("countdown", "<answer>44 + 19 + 35</answer>", {{"format_score", 0.0}, {"score", 2.0}}, kTask).value, 2.0);
}

TEST(Countdown, DivisionIsExact) {
  const nlohmann::json task = {{"numbers", {3, 1, 3, 8}}, {"target", 24}};
  // 8 / (3 - 8/3) = 24 only in exact arithmetic... with these numbers: 8/(3-8/3) uses 8 twice.
  EXPECT_EQ(run("countdown", "<answer>8 / (3 - 1 / 3)</answer>", {}, {{"numbers", {8, 3, 1, 3}}, {"target", 3}}).value, 1.0);
  EXPECT_EQ(run("countdown", "<answer>(3 + 1) * 3 * 8 / 4</answer>", {}, task).value, 0.1);
  EXPECT_EQ(run("countdown", "<answer>3 / (1 - 1)</answer>", {}, {{"numbers", {3, 1, 1}}, {"target", 3}}).value, 0.1);
}

TEST(Countdown, ParserRejectsWhatTinyZeroRejects) {
  EXPECT_FALSE(evaluate_countdown_equation("__import__('os')").value);
  EXPECT_FALSE(evaluate_countdown_equation("2 ** 3").value);
  EXPECT_FALSE(evaluate_countdown_equation("7 // 2").value);
  EXPECT_FALSE(evaluate_countdown_equation("(1 + 2").value);
  EXPECT_FALSE(evaluate_countdown_equation("1 2").value);
  EXPECT_FALSE(evaluate_countdown_equation("05 + 1").value);
  EXPECT_FALSE(evaluate_countdown_equation(".").value);  // found by fuzzing: "." read as 0
  EXPECT_TRUE(evaluate_countdown_equation("-3 + +5 - -1").value);
  EXPECT_EQ(evaluate_countdown_equation("12 + 3 - 4").numbers, (std::vector<long>{12, 3, 4}));
}

TEST(Countdown, MissingFieldIsNamed) {
  try {
    run("countdown", "<answer>1</answer>", {}, {{"numbers", {1}}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'target'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run("countdown", "<answer>1</answer>", {}, {{"numbers", "1,2"}, {"target", 3}}), Error);
}

TEST(Countdown, LastLineOnlyLikeTinyZero) {
  EXPECT_EQ(run("countdown", "<answer>44+19+35</answer>\nok", {{"last_line_only", true}}, kTask).value, 0.0);
  EXPECT_EQ(run("countdown", "x\n<answer>44+19+35</answer>", {{"last_line_only", true}}, kTask).value, 1.0);
}

}  // namespace
}  // namespace grpo::rewards
