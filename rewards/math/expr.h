// A safe parser and evaluator for the expressions found in math answers, written in LaTeX or
// plain text: numbers (integers, decimals, scientific notation), + - * / ^ and implicit
// products, \frac, \sqrt[n]{}, \pi, e, \infty, |x|, n!, the common functions (sin, cos, tan,
// ln, log, exp, ...), single-letter and Greek variables with subscripts. It builds a small
// tree and evaluates it in doubles, plus exactly in rationals where every step is rational.
// It is not a computer-algebra system and never runs code: no simplification, no solving,
// no matrices. Recursion is capped so hostile input fails to parse instead of overflowing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::rewards::math {

// An exact rational with 128-bit parts; arithmetic that would overflow gives nullopt.
struct Rational {
  __int128 num = 0;
  __int128 den = 1;  // > 0, gcd(num, den) = 1
};

struct ExprNode {
  enum Kind : uint8_t { Number, Variable, Add, Sub, Mul, Div, Pow, Neg, Func, Factorial, Abs, Infinity };
  Kind kind = Number;
  uint8_t func = 0;       // for Func: index into the function table
  int a = -1, b = -1;     // children (b used by binary nodes and log bases)
  double value = 0.0;     // Number
  std::optional<Rational> exact;  // Number, when the literal is exactly representable
  int var = -1;           // Variable: index into Expr::vars
};

struct Expr {
  std::vector<ExprNode> nodes;
  int root = -1;
  std::vector<std::string> vars;  // distinct variable names, in order of appearance
  bool is_integer_literal = false;  // the whole input is one integer, e.g. a huge one
  std::string integer_digits;       // its digits with the sign, when is_integer_literal
};

// Parses the whole input or returns nullopt (unknown command, stray character, too deep).
std::optional<Expr> parse_expression(std::string_view text);

// values[i] is the value of expr.vars[i].
double evaluate(const Expr& expr, const std::vector<double>& values);
// Exact value when the expression has no variables and only rational steps.
std::optional<Rational> evaluate_exact(const Expr& expr);

}  // namespace grpo::rewards::math
