// language_consistency, repetition_penalty, soft_overlong and cosine_length against values
// computed by hand from their formulas.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

double value(const std::string& reward, const Sample& s, const nlohmann::json& params = {}) {
  return make_reward(reward, params)->score(s).value;
}

Sample text(const std::string& completion, const std::string& answer = "") {
  Sample s;
  s.completion = completion;
  s.answer = answer;
  return s;
}

TEST(LanguageConsistency, ShareOfWordsInTargetScript) {
  // 3 Latin words, 2 Han characters -> 3/5 in English, 2/5 in Chinese.
  const Sample s = text("<think>so we add 加法</think><answer>3</answer>");
  EXPECT_DOUBLE_EQ(value("language_consistency", s), 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(value("language_consistency", s, {{"language", "zh"}}), 2.0 / 5.0);
  // Numbers and symbols are not words; the answer part is outside the reasoning.
  EXPECT_DOUBLE_EQ(value("language_consistency", text("<think>x = 3 + 4 = 7 ∑</think><answer>七</answer>")), 1.0);
  EXPECT_DOUBLE_EQ(value("language_consistency", text("<think>1 + 2</think>")), 0.0);
  EXPECT_DOUBLE_EQ(value("language_consistency", text("Привет world"), {{"region", "all"}}), 0.5);
  EXPECT_THROW(make_reward("language_consistency", {{"language", "klingon"}}), Error);
}

TEST(RepetitionPenalty, OpenR1Formula) {
  // 6 words, trigrams: (a b c) (b c a) (c a b) (a b c) -> 3 unique of 4 -> (1 - 3/4) * -1.
  EXPECT_DOUBLE_EQ(value("repetition_penalty", text("a b c a b c")), -0.25);
  EXPECT_DOUBLE_EQ(value("repetition_penalty", text("A b C a B c")), -0.25);  // lowercased
  EXPECT_DOUBLE_EQ(value("repetition_penalty", text("a b")), 0.0);
  EXPECT_DOUBLE_EQ(value("repetition_penalty", text("")), 0.0);
  EXPECT_DOUBLE_EQ(value("repetition_penalty", text("x x x x"), {{"ngram_size", 1}, {"max_penalty", -2.0}}), -1.5);
  EXPECT_THROW(make_reward("repetition_penalty", {{"max_penalty", 0.5}}), Error);
}

TEST(SoftOverlong, DapoFormula) {
  const nlohmann::json p = {{"max_length", 100}, {"cache", 20}};
  Sample s = text("x");
  s.completion_tokens = 80;
  EXPECT_DOUBLE_EQ(value("soft_overlong", s, p), 0.0);
  s.completion_tokens = 90;
  EXPECT_DOUBLE_EQ(value("soft_overlong", s, p), -0.5);  // (80 - 90) / 20
  s.completion_tokens = 100;
  EXPECT_DOUBLE_EQ(value("soft_overlong", s, p), -1.0);
  s.completion_tokens = 150;
  EXPECT_DOUBLE_EQ(value("soft_overlong", s, p), -1.0);
  s.completion_tokens.reset();
  EXPECT_THROW(value("soft_overlong", s, p), Error);
  EXPECT_DOUBLE_EQ(value("soft_overlong", text(std::string(95, 'x')), {{"max_length", 100}, {"cache", 20}, {"unit", "chars"}}),
                   -0.75);
  EXPECT_THROW(make_reward("soft_overlong", {{"max_length", 10}}), Error);
}

TEST(CosineLength, OpenR1Formula) {
  const nlohmann::json p = {{"max_len", 100}};
  // Correct, length 0: max_value_correct. Correct, length 50: midpoint 0.75. Length 100: 0.5.
  EXPECT_DOUBLE_EQ(value("cosine_length", text("", "4"), p), 0.0);  // no answer at all: wrong, length 0 -> min_value_wrong
  const std::string answer = "\\boxed{4}";  // 9 characters
  const double progress = 9.0 / 100.0;
  EXPECT_NEAR(value("cosine_length", text(answer, "4"), p), 0.5 + 0.25 * (1 + std::cos(M_PI * progress)), 1e-12);
  EXPECT_NEAR(value("cosine_length", text(answer, "5"), p), -0.5 + 0.25 * (1 + std::cos(M_PI * progress)), 1e-12);
  EXPECT_NEAR(value("cosine_length", text(answer + std::string(41, ' '), "4"), p), 0.75, 1e-12);
  // Past max_len the value stays at the end of the schedule (open-r1's cosine would rise again).
  EXPECT_NEAR(value("cosine_length", text(answer + std::string(500, ' '), "4"), p), 0.5, 1e-12);
  EXPECT_THROW(make_reward("cosine_length", {{"correctness", "nope"}}), Error);
}

}  // namespace
}  // namespace grpo::rewards
