// Exact exhaustive countdown search; see countdown_solver.h.
#include "datasets/countdown_solver.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace grpo::datasets {

namespace {

// An exact fraction with a positive denominator, reduced only once its parts grow large
// (the gcd is most of the search's cost), so "is an integer" is tested as num % den == 0.
struct Fraction {
  int64_t num = 0;
  int64_t den = 1;
};

std::optional<Fraction> make_fraction(int64_t num, int64_t den) {
  if (den == 0) return std::nullopt;
  if (den < 0) {
    if (num == INT64_MIN || den == INT64_MIN) return std::nullopt;
    num = -num;
    den = -den;
  }
  constexpr int64_t kReduceAbove = int64_t{1} << 31;
  if (den < kReduceAbove && num < kReduceAbove && num > -kReduceAbove) return Fraction{num, den};
  const int64_t g = std::gcd(num, den);
  return Fraction{num / g, den / g};
}

bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }

std::optional<Fraction> apply(char op, const Fraction& a, const Fraction& b) {
  int64_t x, y, z;
  switch (op) {
    case '+':
    case '-':
      if (!mul_ok(a.num, b.den, &x) || !mul_ok(b.num, a.den, &y) || !mul_ok(a.den, b.den, &z)) return std::nullopt;
      if (op == '+' ? __builtin_add_overflow(x, y, &x) : __builtin_sub_overflow(x, y, &x)) return std::nullopt;
      return make_fraction(x, z);
    case '*':
      if (!mul_ok(a.num, b.num, &x) || !mul_ok(a.den, b.den, &z)) return std::nullopt;
      return make_fraction(x, z);
    default:  // '/'
      if (b.num == 0 || !mul_ok(a.num, b.den, &x) || !mul_ok(a.den, b.num, &z)) return std::nullopt;
      return make_fraction(x, z);
  }
}

// A value with the equation that makes it, for the solution search.
struct Term {
  Fraction value;
  std::string text;
  bool compound = false;
};

const Fraction& value_of(const Fraction& f) { return f; }
const Fraction& value_of(const Term& t) { return t.value; }

Fraction combined(char, const Fraction&, const Fraction&, const Fraction& value) { return value; }

Term combined(char op, const Term& left, const Term& right, const Fraction& value) {
  auto operand = [](const Term& t) { return t.compound ? "(" + t.text + ")" : t.text; };
  return Term{value, operand(left) + " " + op + " " + operand(right), true};
}

constexpr size_t kMaxNumbers = 8;

// Visits every value obtainable by combining all terms[0, n); stops when `visit` returns
// true. Each step replaces two terms by one of a+b, a-b, b-a, a*b, a/b, b/a, in place: the
// result takes slot i and the last term moves into slot j, then both are restored.
// T is Fraction (values only, the fast path for generation) or Term (with equations).
template <class T, class Visit>
bool combine_all(T* terms, size_t n, Visit& visit) {
  if (n == 1) return visit(terms[0]);
  static const struct {
    char op;
    bool swapped;
  } kSteps[] = {{'+', false}, {'-', false}, {'-', true}, {'*', false}, {'/', false}, {'/', true}};
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const T a = terms[i];
      const T b = terms[j];
      terms[j] = terms[n - 1];
      for (const auto& step : kSteps) {
        const T& left = step.swapped ? b : a;
        const T& right = step.swapped ? a : b;
        const auto value = apply(step.op, value_of(left), value_of(right));
        if (!value) continue;
        terms[i] = combined(step.op, left, right, *value);
        if (combine_all(terms, n - 1, visit)) return true;
      }
      terms[i] = a;
      terms[j] = b;
    }
  }
  return false;
}

void check_count(const std::vector<int64_t>& numbers) {
  if (numbers.size() > kMaxNumbers) {
    throw Error("countdown solver: at most " + std::to_string(kMaxNumbers) + " numbers, got " +
                std::to_string(numbers.size()));
  }
}

}  // namespace

std::vector<int64_t> reachable_integers(const std::vector<int64_t>& numbers, int64_t lo, int64_t hi) {
  if (numbers.empty()) return {};
  check_count(numbers);
  Fraction terms[kMaxNumbers];
  for (size_t i = 0; i < numbers.size(); ++i) terms[i] = Fraction{numbers[i], 1};
  std::vector<int64_t> found;
  auto visit = [&](const Fraction& v) {
    if (v.num % v.den == 0 && v.num / v.den >= lo && v.num / v.den <= hi) found.push_back(v.num / v.den);
    return false;
  };
  combine_all(terms, numbers.size(), visit);
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

std::optional<std::string> countdown_solution(const std::vector<int64_t>& numbers, int64_t target) {
  if (numbers.empty()) return std::nullopt;
  check_count(numbers);
  Term terms[kMaxNumbers];
  for (size_t i = 0; i < numbers.size(); ++i) terms[i] = Term{{numbers[i], 1}, std::to_string(numbers[i]), false};
  std::optional<std::string> solution;
  auto visit = [&](const Term& t) {
    if (t.value.num % t.value.den != 0 || t.value.num / t.value.den != target) return false;
    solution = t.text;
    return true;
  };
  combine_all(terms, numbers.size(), visit);
  return solution;
}

}  // namespace grpo::datasets
