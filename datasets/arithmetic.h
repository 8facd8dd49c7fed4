// Arithmetic expressions with a configurable difficulty: operand digits, number of
// operations, and which of + - * / appear. The prompt shows the expression with the usual
// precedence (* and / before + and -, left to right); the answer is its exact integer value.
// Division only appears where it is exact. Results may be negative. Deterministic in the
// seed; the held-out split is by expression text, see split.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"
#include "datasets/record.h"
#include "datasets/split.h"

namespace grpo::datasets {

struct ArithmeticOptions {
  int64_t min_digits = 1;  // digits of each operand; 1 digit means 0..9, d > 1 means 10^(d-1)..10^d-1
  int64_t max_digits = 2;
  int64_t min_ops = 1;     // operators in the expression
  int64_t max_ops = 2;
  std::string operators = "+-*";  // any of + - * /
  double test_fraction = 0.1;
};

inline void describe(config::Fields& f, ArithmeticOptions& o) {
  f.field("min_digits", o.min_digits, 1, "Fewest digits in an operand (1..9).");
  f.field("max_digits", o.max_digits, 2, "Most digits in an operand (1..9; at most 5 when '/' is used).");
  f.field("min_ops", o.min_ops, 1, "Fewest operators in an expression (1..10).");
  f.field("max_ops", o.max_ops, 2, "Most operators in an expression (1..10).");
  f.field("operators", o.operators, "+-*", "Operators to draw from, any of + - * /.");
  f.field("test_fraction", o.test_fraction, 0.1, "Share of all problems reserved for the test split, in (0, 1).");
}

// Named difficulties: easy (1 digit, 1 op, + -), medium (1-2 digits, 2 ops, + - *),
// hard (2-3 digits, 3-4 ops, + - * /). An unknown name is a grpo::Error listing them.
ArithmeticOptions arithmetic_preset(const std::string& name);

// Throws one grpo::Error listing every out-of-range option.
void validate(const ArithmeticOptions& options);

// The exact value of `expression` ("12 + 7 * 3 - 5": integers and + - * / separated by
// spaces, usual precedence). A malformed expression, inexact division, division by zero or
// overflow is a grpo::Error. Generated expressions are evaluated by this to set the answer.
int64_t evaluate_arithmetic(const std::string& expression);

// The worked solution of `expression`, one operation at a time in evaluation order (* and /
// first, then + and -, each left to right): "7 - 3 + 5" gives "7 - 3 = 4, 4 + 5 = 9". A
// one-number expression has no steps (""). Errors as evaluate_arithmetic.
std::string arithmetic_steps(const std::string& expression);

// `count` distinct problems of `split`. Each record: prompt, answer = the integer in decimal,
// extra {"expression": "...", "steps": arithmetic_steps(expression)}.
std::vector<Record> generate_arithmetic(const ArithmeticOptions& options, int64_t count, uint64_t seed, Split split);

}  // namespace grpo::datasets
