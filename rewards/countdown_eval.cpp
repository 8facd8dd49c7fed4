// Countdown equation parser and exact evaluator; see countdown_eval.h.
//   sum := product (('+'|'-') product)* ; product := unary (('*'|'/') unary)*
//   unary := ('+'|'-') unary | atom ; atom := number | '(' sum ')'
#include "rewards/countdown_eval.h"

#include "rewards/math/rational.h"

namespace grpo::rewards {
namespace {

constexpr int kMaxDepth = 200;

class Evaluator {
 public:
  explicit Evaluator(std::string_view s) : s_(s) {}

  CountdownEquation run() {
    CountdownEquation out;
    collect_numbers(out);
    if (!error_.empty()) {
      out.error = error_;
      return out;
    }
    auto v = sum();
    skip();
    if (v && i_ != s_.size()) fail("unexpected '" + std::string(1, s_[i_]) + "'");
    if (error_.empty()) out.value = v;
    out.error = error_;
    return out;
  }

 private:
  void collect_numbers(CountdownEquation& out) {
    for (size_t i = 0; i < s_.size();) {
      const char c = s_[i];
      if (c >= '0' && c <= '9') {
        long v = 0;
        size_t j = i;
        for (; j < s_.size() && s_[j] >= '0' && s_[j] <= '9'; ++j) {
          if (v < 1000000000000L) v = v * 10 + (s_[j] - '0');
        }
        out.numbers.push_back(v);
        i = j;
        continue;
      }
      if (std::string_view("+-*/(). \t\n\r").find(c) == std::string_view::npos) {
        return fail("character '" + std::string(1, c) + "' is not allowed");
      }
      ++i;
    }
  }

  void fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool next_is(char c) {
    skip();
    return i_ < s_.size() && s_[i_] == c;
  }

  std::optional<math::Rational> checked(std::optional<math::Rational> v, const char* what) {
    if (!v) fail(what);
    return v;
  }

  std::optional<math::Rational> sum() {
    if (++depth_ > kMaxDepth) {
      fail("nested too deeply");
      return std::nullopt;
    }
    auto left = product();
    while (left) {
      if (eat('+')) {
        auto r = product();
        left = r ? checked(math::add(*left, *r), "overflow") : std::nullopt;
      } else if (eat('-')) {
        auto r = product();
        left = r ? checked(math::sub(*left, *r), "overflow") : std::nullopt;
      } else {
        break;
      }
    }
    --depth_;
    return left;
  }

  std::optional<math::Rational> product() {
    auto left = unary();
    while (left) {
      if (next_is('*')) {
        ++i_;
        if (next_is('*')) return fail("'**' is not allowed"), std::nullopt;
        auto r = unary();
        left = r ? checked(math::mul(*left, *r), "overflow") : std::nullopt;
      } else if (next_is('/')) {
        ++i_;
        if (next_is('/')) return fail("'//' is not allowed"), std::nullopt;
        auto r = unary();
        if (r && r->num == 0) return fail("division by zero"), std::nullopt;
        left = r ? checked(math::div(*left, *r), "overflow") : std::nullopt;
      } else {
        break;
      }
    }
    return left;
  }

  std::optional<math::Rational> unary() {
    if (++depth_ > kMaxDepth) return fail("nested too deeply"), std::nullopt;
    std::optional<math::Rational> v;
    if (eat('-')) {
      v = unary();
      if (v) v = math::neg(*v);
    } else if (eat('+')) {
      v = unary();
    } else {
      v = atom();
    }
    --depth_;
    return v;
  }

  std::optional<math::Rational> atom() {
    if (eat('(')) {
      auto v = sum();
      if (v && !eat(')')) return fail("missing ')'"), std::nullopt;
      return v;
    }
    skip();
    const size_t start = i_;
    while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.')) ++i_;
    if (i_ == start) return fail(i_ < s_.size() ? "expected a number" : "unexpected end"), std::nullopt;
    const std::string literal(s_.substr(start, i_ - start));
    if (literal.find_first_of("0123456789") == std::string::npos) return fail("'.' is not a number"), std::nullopt;
    // Python rejects "05"; a lone "0" or "0.5" is fine.
    if (literal.size() > 1 && literal[0] == '0' && literal[1] != '.' &&
        literal.find_first_not_of('0') != std::string::npos) {
      return fail("leading zero in '" + literal + "'"), std::nullopt;
    }
    return checked(math::parse_decimal(literal), "not a number");
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

CountdownEquation evaluate_countdown_equation(std::string_view equation) { return Evaluator(equation).run(); }

}  // namespace grpo::rewards
