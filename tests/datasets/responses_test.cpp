// Noisy-teacher responses: the pattern is rendered, the wrong share is close to what was asked,
// wrong answers stay within the offset, and the choice is deterministic in the seed.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/error.h"
#include "datasets/responses.h"

using grpo::datasets::Record;

namespace {
std::vector<Record> records(int n) {
  std::vector<Record> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].id = std::to_string(i);
    out[i].answer = std::to_string(100 + i);
    out[i].extra["expression"] = "x" + std::to_string(i);
  }
  return out;
}
}  // namespace

TEST(Responses, PatternSubstitutesAnswerAndExtraFields) {
  auto rs = records(3);
  grpo::datasets::add_responses(rs, {{{"<think>{expression}</think> <answer>{answer}</answer>", 0.0}}, 5, 1});
  EXPECT_EQ(rs[2].extra["response"], "<think>x2</think> <answer>102</answer>");
}

TEST(Responses, WrongFractionIsHonouredAndOffsetsBounded) {
  auto rs = records(4000);
  grpo::datasets::add_responses(rs, {{{"{answer}", 0.3}}, 4, 7});
  int wrong = 0;
  for (const auto& r : rs) {
    const long got = std::stol(r.extra["response"].get<std::string>()), want = std::stol(r.answer);
    if (got != want) {
      ++wrong;
      EXPECT_LE(std::labs(got - want), 4);
    }
  }
  EXPECT_NEAR(wrong / 4000.0, 0.3, 0.03);
}

TEST(Responses, SameSeedSameResponses) {
  auto a = records(50), b = records(50);
  grpo::datasets::add_responses(a, {{{"{answer}", 0.5}}, 5, 11});
  grpo::datasets::add_responses(b, {{{"{answer}", 0.5}}, 5, 11});
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].extra["response"], b[i].extra["response"]);
}

TEST(Responses, UnknownFieldAndNonIntegerAnswerAreErrors) {
  auto rs = records(1);
  EXPECT_THROW(grpo::datasets::add_responses(rs, {{{"{missing}", 0.0}}, 5, 1}), grpo::Error);
  rs[0].answer = "3/4";
  EXPECT_THROW(grpo::datasets::add_responses(rs, {{{"{answer}", 1.0}}, 5, 1}), grpo::Error);
}

TEST(Responses, StylesAreDrawnInEqualSharesEachWithItsWrongFraction) {
  auto rs = records(2000);
  grpo::datasets::add_responses(rs, {{{"A{answer}", 0.0}, {"B{answer}", 1.0}}, 5, 3});
  int a = 0;
  for (const auto& r : rs) {
    const auto text = r.extra["response"].get<std::string>();
    const bool is_a = text[0] == 'A';
    // Style A is never wrong, style B always is.
    EXPECT_EQ(text.substr(1) == r.answer, is_a) << text;
    a += is_a;
  }
  EXPECT_NEAR(a / 2000.0, 0.5, 0.04);
}
