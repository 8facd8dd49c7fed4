// Checked rational arithmetic; see rational.h.
#include "rewards/math/rational.h"

#include <algorithm>

namespace grpo::rewards::math {
namespace {

__int128 abs128(__int128 x) { return x < 0 ? -x : x; }

__int128 gcd128(__int128 a, __int128 b) {
  a = abs128(a);
  b = abs128(b);
  while (b != 0) {
    const __int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// The most negative value has no negation; keeping magnitudes below it makes negation safe.
constexpr __int128 kLimit = (static_cast<__int128>(1) << 126);

bool in_range(__int128 x) { return x < kLimit && x > -kLimit; }

}  // namespace

std::optional<Rational> make_rational(__int128 num, __int128 den) {
  if (den == 0 || !in_range(num) || !in_range(den)) return std::nullopt;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const __int128 g = gcd128(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  return Rational{num, den};
}

std::optional<Rational> mul(const Rational& x, const Rational& y) {
  // Cross-reduce first so products of reduced fractions overflow as late as possible.
  const __int128 g1 = gcd128(x.num, y.den), g2 = gcd128(y.num, x.den);
  const __int128 a = x.num / (g1 ? g1 : 1), d = y.den / (g1 ? g1 : 1);
  const __int128 c = y.num / (g2 ? g2 : 1), b = x.den / (g2 ? g2 : 1);
  __int128 num, den;
  if (__builtin_mul_overflow(a, c, &num) || __builtin_mul_overflow(b, d, &den)) return std::nullopt;
  return make_rational(num, den);
}

std::optional<Rational> add(const Rational& x, const Rational& y) {
  const __int128 g = gcd128(x.den, y.den);
  const __int128 xs = y.den / g, ys = x.den / g;
  __int128 p, q, num, den;
  if (__builtin_mul_overflow(x.num, xs, &p) || __builtin_mul_overflow(y.num, ys, &q) ||
      __builtin_add_overflow(p, q, &num) || __builtin_mul_overflow(x.den, xs, &den)) {
    return std::nullopt;
  }
  return make_rational(num, den);
}

std::optional<Rational> neg(const Rational& x) { return Rational{-x.num, x.den}; }

std::optional<Rational> sub(const Rational& x, const Rational& y) { return add(x, Rational{-y.num, y.den}); }

std::optional<Rational> div(const Rational& x, const Rational& y) {
  if (y.num == 0) return std::nullopt;
  const auto inv = make_rational(y.den, y.num);
  if (!inv) return std::nullopt;
  return mul(x, *inv);
}

std::optional<Rational> pow_int(const Rational& x, long e) {
  if (e > 256 || e < -256) return std::nullopt;
  std::optional<Rational> base = x;
  if (e < 0) {
    base = div(Rational{1, 1}, x);
    if (!base) return std::nullopt;
    e = -e;
  }
  std::optional<Rational> out = Rational{1, 1};
  for (long i = 0; i < e && out; ++i) out = mul(*out, *base);
  return out;
}

std::optional<Rational> parse_decimal(const std::string& digits) {
  __int128 num = 0, den = 1;
  bool after_point = false;
  for (char c : digits) {
    if (c == '.') {
      if (after_point) return std::nullopt;
      after_point = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(num, 10, &num) || __builtin_add_overflow(num, c - '0', &num)) return std::nullopt;
    if (after_point && __builtin_mul_overflow(den, 10, &den)) return std::nullopt;
  }
  return make_rational(num, den);
}

double to_double(const Rational& x) { return static_cast<double>(x.num) / static_cast<double>(x.den); }

bool operator==(const Rational& x, const Rational& y) { return x.num == y.num && x.den == y.den; }

std::string to_string(const Rational& x) {
  auto int_str = [](__int128 v) {
    if (v == 0) return std::string("0");
    const bool negative = v < 0;
    std::string s;
    for (__int128 m = negative ? -v : v; m > 0; m /= 10) s += static_cast<char>('0' + static_cast<int>(m % 10));
    if (negative) s += '-';
    std::reverse(s.begin(), s.end());
    return s;
  };
  return x.den == 1 ? int_str(x.num) : int_str(x.num) + "/" + int_str(x.den);
}

}  // namespace grpo::rewards::math
