// Checked arithmetic on math::Rational (128-bit numerator and denominator, always reduced).
// Every operation returns nullopt on overflow or division by zero instead of wrapping, so a
// caller can fall back to floating point or call the value unevaluable. Shared by the math
// answer evaluator and the countdown checker; it is not an arbitrary-precision library.
#pragma once

#include <optional>
#include <string>

#include "rewards/math/expr.h"

namespace grpo::rewards::math {

std::optional<Rational> make_rational(__int128 num, __int128 den);
std::optional<Rational> add(const Rational& x, const Rational& y);
std::optional<Rational> sub(const Rational& x, const Rational& y);
std::optional<Rational> mul(const Rational& x, const Rational& y);
std::optional<Rational> div(const Rational& x, const Rational& y);
std::optional<Rational> neg(const Rational& x);
// x^e for an integer exponent with |e| <= 256.
std::optional<Rational> pow_int(const Rational& x, long e);
// Parses "123" or "12.50" (no sign, no exponent) exactly; nullopt when it does not fit.
std::optional<Rational> parse_decimal(const std::string& digits);
double to_double(const Rational& x);
bool operator==(const Rational& x, const Rational& y);
std::string to_string(const Rational& x);

}  // namespace grpo::rewards::math
