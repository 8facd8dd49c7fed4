// Arithmetic problem generation and exact evaluation; see arithmetic.h.
#include "datasets/arithmetic.h"

#include <optional>

#include "core/error.h"
#include "core/strings.h"

namespace grpo::datasets {

namespace {

int64_t power_of_ten(int64_t digits) {
  int64_t p = 1;
  for (int64_t i = 0; i < digits; ++i) p *= 10;
  return p;
}

struct OperandRange {
  int64_t lo;
  int64_t hi;
};

OperandRange range_for_digits(int64_t digits) {
  return {digits == 1 ? 0 : power_of_ten(digits - 1), power_of_ten(digits) - 1};
}

int64_t parse_operand(const std::string& token, const std::string& expression) {
  if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos || token.size() > 18) {
    throw Error("arithmetic expression '" + expression + "': '" + token + "' is not a non-negative integer");
  }
  return std::stoll(token);
}

// A divisor of `term` with an allowed digit count, so that "term / divisor" is exact.
std::optional<int64_t> draw_divisor(int64_t term, const ArithmeticOptions& o, DeterministicRandom& rng) {
  const OperandRange r = range_for_digits(rng.between(o.min_digits, o.max_digits));
  const int64_t lo = std::max<int64_t>(r.lo, 1);
  if (term == 0) return rng.between(lo, r.hi);
  std::vector<int64_t> divisors;
  for (int64_t k = lo; k <= r.hi; ++k) {
    if (term % k == 0) divisors.push_back(k);
  }
  if (divisors.empty()) return std::nullopt;
  return divisors[rng.below(divisors.size())];
}

std::optional<GeneratedProblem> draw_problem(const ArithmeticOptions& o, DeterministicRandom& rng) {
  auto operand = [&] {
    const OperandRange r = range_for_digits(rng.between(o.min_digits, o.max_digits));
    return rng.between(r.lo, r.hi);
  };
  int64_t term = operand();  // value of the current * / chain, to choose exact divisors
  std::string expression = std::to_string(term);
  const int64_t ops = rng.between(o.min_ops, o.max_ops);
  for (int64_t i = 0; i < ops; ++i) {
    const char op = o.operators[rng.below(o.operators.size())];
    int64_t x;
    if (op == '/') {
      const auto divisor = draw_divisor(term, o, rng);
      if (!divisor) return std::nullopt;
      x = *divisor;
      term /= x;
    } else {
      x = operand();
      if (op != '*') {
        term = x;
      } else if (__builtin_mul_overflow(term, x, &term)) {
        return std::nullopt;
      }
    }
    expression += std::string(" ") + op + " " + std::to_string(x);
  }
  int64_t value;
  try {
    value = evaluate_arithmetic(expression);
  } catch (const Error&) {
    return std::nullopt;  // overflow at this difficulty: draw another
  }
  GeneratedProblem problem;
  problem.key = "arithmetic:" + expression;
  problem.record.prompt = "What is " + expression + "? Give the exact integer result.";
  problem.record.answer = std::to_string(value);
  problem.record.extra = {{"expression", expression}, {"steps", arithmetic_steps(expression)}};
  return problem;
}

}  // namespace

ArithmeticOptions arithmetic_preset(const std::string& name) {
  ArithmeticOptions o;
  if (name == "easy") {
    o.min_digits = o.max_digits = 1;
    o.min_ops = o.max_ops = 1;
    o.operators = "+-";
  } else if (name == "medium") {
    o.min_digits = 1;
    o.max_digits = 2;
    o.min_ops = o.max_ops = 2;
    o.operators = "+-*";
  } else if (name == "hard") {
    o.min_digits = 2;
    o.max_digits = 3;
    o.min_ops = 3;
    o.max_ops = 4;
    o.operators = "+-*/";
  } else {
    const std::vector<std::string> names = {"easy", "medium", "hard"};
    throw Error("unknown arithmetic difficulty '" + name + "'" + did_you_mean(name, names) +
                "; valid: easy, medium, hard");
  }
  return o;
}

void validate(const ArithmeticOptions& o) {
  std::vector<std::string> problems;
  auto check = [&](bool ok, const std::string& message) {
    if (!ok) problems.push_back("arithmetic: " + message);
  };
  check(o.min_digits >= 1 && o.max_digits <= 9 && o.min_digits <= o.max_digits,
        "need 1 <= min_digits <= max_digits <= 9, got " + std::to_string(o.min_digits) + ".." +
            std::to_string(o.max_digits));
  check(o.min_ops >= 1 && o.max_ops <= 10 && o.min_ops <= o.max_ops,
        "need 1 <= min_ops <= max_ops <= 10, got " + std::to_string(o.min_ops) + ".." + std::to_string(o.max_ops));
  check(!o.operators.empty() && o.operators.find_first_not_of("+-*/") == std::string::npos,
        "operators must be a non-empty string of + - * /, got '" + o.operators + "'");
  check(o.operators.find('/') == std::string::npos || o.max_digits <= 5,
        "division needs max_digits <= 5 (divisors are searched exhaustively), got " + std::to_string(o.max_digits));
  check(o.test_fraction > 0.0 && o.test_fraction < 1.0,
        "test_fraction must be in (0, 1), got " + std::to_string(o.test_fraction));
  if (!problems.empty()) throw Error(join(problems, "\n"));
}

int64_t evaluate_arithmetic(const std::string& expression) {
  const auto tokens = split(expression, ' ');
  if (tokens.size() % 2 == 0) throw Error("arithmetic expression '" + expression + "' is malformed");
  auto fail = [&](const std::string& why) -> int64_t {
    throw Error("arithmetic expression '" + expression + "': " + why);
  };
  int64_t sum = 0;
  int64_t sign = 1;
  int64_t term = parse_operand(tokens[0], expression);
  for (size_t i = 1; i < tokens.size(); i += 2) {
    const std::string& op = tokens[i];
    const int64_t x = parse_operand(tokens[i + 1], expression);
    if (op == "*") {
      if (__builtin_mul_overflow(term, x, &term)) fail("overflows 64 bits");
    } else if (op == "/") {
      if (x == 0) fail("division by zero");
      if (term % x != 0) fail(std::to_string(term) + " / " + std::to_string(x) + " is not exact");
      term /= x;
    } else if (op == "+" || op == "-") {
      if (__builtin_mul_overflow(sign, term, &term) || __builtin_add_overflow(sum, term, &sum)) {
        fail("overflows 64 bits");
      }
      sign = op == "+" ? 1 : -1;
      term = x;
    } else {
      fail("'" + op + "' is not one of + - * /");
    }
  }
  if (__builtin_mul_overflow(sign, term, &term) || __builtin_add_overflow(sum, term, &sum)) fail("overflows 64 bits");
  return sum;
}

std::string arithmetic_steps(const std::string& expression) {
  evaluate_arithmetic(expression);  // the same errors, and no overflow below
  std::vector<std::string> tokens = split(expression, ' ');
  std::vector<std::string> steps;
  auto reduce_first = [&](const char* ops) {
    for (size_t i = 1; i < tokens.size(); i += 2) {
      if (tokens[i].size() != 1 || std::string(ops).find(tokens[i][0]) == std::string::npos) continue;
      const int64_t a = std::stoll(tokens[i - 1]), b = std::stoll(tokens[i + 1]);
      const char op = tokens[i][0];
      const int64_t c = op == '*' ? a * b : op == '/' ? a / b : op == '+' ? a + b : a - b;
      steps.push_back(tokens[i - 1] + " " + tokens[i] + " " + tokens[i + 1] + " = " + std::to_string(c));
      tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(i), tokens.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      tokens[i - 1] = std::to_string(c);
      return true;
    }
    return false;
  };
  while (reduce_first("*/")) {
  }
  while (reduce_first("+-")) {
  }
  return join(steps, ", ");
}

std::vector<Record> generate_arithmetic(const ArithmeticOptions& options, int64_t count, uint64_t seed,
                                        Split split) {
  validate(options);
  const SplitRequest request{"arithmetic", count, seed, split, options.test_fraction};
  return generate_split(request, [&options](DeterministicRandom& rng) { return draw_problem(options, rng); });
}

}  // namespace grpo::datasets
