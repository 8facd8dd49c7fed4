// Arithmetic generation: determinism, answers equal to an independent evaluation, the
// difficulty respected (digits, operator count, operator set), exact division, and disjoint
// train/test splits.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "core/error.h"
#include "datasets/arithmetic.h"

namespace grpo::datasets {
namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Two passes, written independently of the library: fold * and / left to right, then + and -.
// Returns false when a division is not exact.
bool independent_value(const std::string& expression, int64_t* value) {
  const auto t = words(expression);
  std::vector<int64_t> terms{std::stoll(t[0])};
  std::vector<char> signs{'+'};
  for (size_t i = 1; i < t.size(); i += 2) {
    const int64_t x = std::stoll(t[i + 1]);
    if (t[i] == "*") {
      terms.back() *= x;
    } else if (t[i] == "/") {
      if (x == 0 || terms.back() % x != 0) return false;
      terms.back() /= x;
    } else {
      terms.push_back(x);
      signs.push_back(t[i][0]);
    }
  }
  *value = 0;
  for (size_t i = 0; i < terms.size(); ++i) *value += signs[i] == '+' ? terms[i] : -terms[i];
  return true;
}

TEST(Arithmetic, EvaluatesWithTheUsualPrecedence) {
  EXPECT_EQ(evaluate_arithmetic("12 + 7 * 3 - 5"), 28);
  EXPECT_EQ(evaluate_arithmetic("2 - 12 / 4 * 3"), -7);
  EXPECT_EQ(evaluate_arithmetic("9"), 9);
  EXPECT_THROW(evaluate_arithmetic("7 / 2"), Error);
  EXPECT_THROW(evaluate_arithmetic("1 / 0"), Error);
  EXPECT_THROW(evaluate_arithmetic("1 ^ 2"), Error);
}

TEST(Arithmetic, SameSeedSameRecords) {
  const ArithmeticOptions o = arithmetic_preset("medium");
  const auto a = generate_arithmetic(o, 40, 5, Split::kTrain);
  const auto b = generate_arithmetic(o, 40, 5, Split::kTrain);
  const auto c = generate_arithmetic(o, 40, 6, Split::kTrain);
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(record_to_json(a[i]), record_to_json(b[i]));
    differing += a[i].prompt != c[i].prompt;
  }
  EXPECT_GT(differing, 30);
}

TEST(Arithmetic, RespectsTheDifficultyAndAnswersExactly) {
  ArithmeticOptions o = arithmetic_preset("hard");  // 2-3 digits, 3-4 ops, + - * /
  const auto records = generate_arithmetic(o, 300, 11, Split::kTrain);
  std::set<std::string> operators_seen;
  for (const auto& r : records) {
    const std::string expression = r.extra["expression"].get<std::string>();
    EXPECT_EQ(r.prompt, "What is " + expression + "? Give the exact integer result.");
    const auto t = words(expression);
    const size_t ops = t.size() / 2;
    EXPECT_TRUE(ops >= 3 && ops <= 4) << expression;
    for (size_t i = 0; i < t.size(); i += 2) EXPECT_TRUE(t[i].size() >= 2 && t[i].size() <= 3) << expression;
    for (size_t i = 1; i < t.size(); i += 2) operators_seen.insert(t[i]);
    int64_t value = 0;
    ASSERT_TRUE(independent_value(expression, &value)) << "inexact division in " << expression;
    EXPECT_EQ(r.answer, std::to_string(value)) << expression;
  }
  EXPECT_EQ(operators_seen, (std::set<std::string>{"+", "-", "*", "/"}));
}

TEST(Arithmetic, OneDigitOperandsIncludeZeroAndOperatorsStayInTheSet) {
  ArithmeticOptions o;
  o.min_digits = o.max_digits = 1;
  o.min_ops = o.max_ops = 2;
  o.operators = "*/";
  std::set<std::string> operands;
  for (const auto& r : generate_arithmetic(o, 200, 3, Split::kTrain)) {
    const auto t = words(r.extra["expression"].get<std::string>());
    ASSERT_EQ(t.size(), 5u);
    EXPECT_TRUE(t[1] == "*" || t[1] == "/");
    EXPECT_TRUE(t[3] == "*" || t[3] == "/");
    for (size_t i = 0; i < t.size(); i += 2) operands.insert(t[i]);
  }
  EXPECT_EQ(operands.count("0"), 1u);
  EXPECT_EQ(operands.size(), 10u);
}

TEST(Arithmetic, HeldOutSplitNeverOverlapsTrain) {
  const ArithmeticOptions o = arithmetic_preset("easy");  // a small space: 10*10*2 problems
  std::set<std::string> train;
  for (const auto& r : generate_arithmetic(o, 150, 1, Split::kTrain)) train.insert(r.prompt);
  const auto test = generate_arithmetic(o, 10, 2, Split::kTest);
  for (const auto& r : test) EXPECT_EQ(train.count(r.prompt), 0u) << r.prompt;
  EXPECT_EQ(train.size(), 150u);
}

TEST(Arithmetic, PresetsAndOptionsAreChecked) {
  EXPECT_THROW(arithmetic_preset("extreme"), Error);
  ArithmeticOptions o;
  o.max_digits = 7;
  o.operators = "+/";
  try {
    validate(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "arithmetic: division needs max_digits <= 5 (divisors are searched exhaustively), got 7");
  }
  o = ArithmeticOptions{};
  o.operators = "+%";
  EXPECT_THROW(validate(o), Error);
}

}  // namespace
}  // namespace grpo::datasets

TEST(Arithmetic, StepsFollowPrecedenceAndEndAtTheAnswer) {
  EXPECT_EQ(grpo::datasets::arithmetic_steps("7 - 3 + 5"), "7 - 3 = 4, 4 + 5 = 9");
  EXPECT_EQ(grpo::datasets::arithmetic_steps("2 + 3 * 4 - 8 / 2"), "3 * 4 = 12, 8 / 2 = 4, 2 + 12 = 14, 14 - 4 = 10");
  EXPECT_EQ(grpo::datasets::arithmetic_steps("3 - 7 + 5"), "3 - 7 = -4, -4 + 5 = 1");
  EXPECT_EQ(grpo::datasets::arithmetic_steps("6"), "");
  EXPECT_THROW(grpo::datasets::arithmetic_steps("6 / 0"), grpo::Error);
  grpo::datasets::ArithmeticOptions o = grpo::datasets::arithmetic_preset("hard");
  for (const auto& r : grpo::datasets::generate_arithmetic(o, 50, 5, grpo::datasets::Split::kTrain)) {
    const std::string steps = r.extra["steps"].get<std::string>();
    EXPECT_EQ(steps.substr(steps.rfind(" = ") + 3), r.answer) << steps;
  }
}
