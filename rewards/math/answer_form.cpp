// Answer-form rules; see answer_form.h. Number literals are recognized by a hand-written
// scanner over the normalized text (normalization already removed \%, thousands separators,
// spaces and \dfrac); un-carried arithmetic is found on the parse tree of expr.h, after
// splitting compound answers ("(1, 2)", "x = 1, x = 2", "[0, 5)") into their parts.
#include "rewards/math/answer_form.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "rewards/math/expr.h"
#include "rewards/math/normalize.h"

namespace grpo::rewards::math {
namespace {

enum class LiteralKind { kPlain, kFraction, kWholeFraction, kScientific, kMixed };

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Scanner {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i == s.size(); }
  bool eat(std::string_view token) {
    if (s.substr(i, token.size()) != token) return false;
    i += token.size();
    return true;
  }
  // Digits at the cursor, consumed; "" when none.
  std::string_view digits() {
    const size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return s.substr(start, i - start);
  }
  // "12", "12.", "12.5" or ".5"; false (nothing consumed that matters) when there is no digit.
  bool decimal(bool* has_point) {
    const bool whole = !digits().empty();
    *has_point = eat(".");
    const bool part = *has_point && !digits().empty();
    return whole || part;
  }
  // The exponent of a power of ten: "{-3}", "{12}" or one digit.
  bool ten_exponent() {
    if (eat("{")) {
      eat("-");
      return !digits().empty() && eat("}");
    }
    return i < s.size() && is_digit(s[i++]);
  }
};

// a/b with both parts short enough to divide exactly; a longer part is never "whole".
bool divides(std::string_view numerator, std::string_view denominator) {
  if (numerator.size() > 18 || denominator.size() > 18) return false;
  const unsigned long long a = std::stoull(std::string(numerator)), b = std::stoull(std::string(denominator));
  return b != 0 && a % b == 0;
}

std::optional<LiteralKind> fraction_kind(std::string_view numerator, std::string_view denominator) {
  if (numerator.empty() || denominator.empty()) return std::nullopt;
  return divides(numerator, denominator) ? LiteralKind::kWholeFraction : LiteralKind::kFraction;
}

std::optional<LiteralKind> classify(std::string_view text) {
  Scanner sc{text};
  if (!sc.eat("-")) sc.eat("+");
  if (sc.eat("(")) {  // a mixed number as normalize_answer writes it: (3+\frac{1}{2}) or (3+1/2)
    if (sc.digits().empty() || !sc.eat("+")) return std::nullopt;
    if (sc.eat("\\frac{")) {
      if (sc.digits().empty() || !sc.eat("}{") || sc.digits().empty() || !sc.eat("}")) return std::nullopt;
    } else if (sc.digits().empty() || !sc.eat("/") || sc.digits().empty()) {
      return std::nullopt;
    }
    return sc.eat(")") && sc.done() ? std::optional(LiteralKind::kMixed) : std::nullopt;
  }
  if (sc.eat("\\frac{")) {
    sc.eat("-");
    const auto numerator = sc.digits();
    if (!sc.eat("}{")) return std::nullopt;
    const auto denominator = sc.digits();
    if (!sc.eat("}") || !sc.done()) return std::nullopt;
    return fraction_kind(numerator, denominator);
  }
  if (sc.eat("10^")) return sc.ten_exponent() && sc.done() ? std::optional(LiteralKind::kScientific) : std::nullopt;
  const size_t mantissa_start = sc.i;
  bool has_point = false;
  if (!sc.decimal(&has_point)) return std::nullopt;
  if (sc.done()) return LiteralKind::kPlain;
  if (!has_point && sc.eat("/")) {
    const auto numerator = text.substr(mantissa_start, sc.i - 1 - mantissa_start);
    const auto denominator = sc.digits();
    return sc.done() ? fraction_kind(numerator, denominator) : std::nullopt;
  }
  if (sc.eat("e") || sc.eat("E")) {
    if (!sc.eat("-")) sc.eat("+");
    return !sc.digits().empty() && sc.done() ? std::optional(LiteralKind::kScientific) : std::nullopt;
  }
  if (sc.eat("\\times") || sc.eat("\\cdot") || sc.eat("*")) {
    return sc.eat("10^") && sc.ten_exponent() && sc.done() ? std::optional(LiteralKind::kScientific) : std::nullopt;
  }
  return std::nullopt;
}

// --- the parse-tree test ---------------------------------------------------------------

bool integer_literal(const Expr& e, int id) {
  const ExprNode& n = e.nodes[id];
  if (n.kind == ExprNode::Neg) return integer_literal(e, n.a);
  return n.kind == ExprNode::Number && n.exact && n.exact->den == 1;
}

bool decimal_literal(const Expr& e, int id) {
  const ExprNode& n = e.nodes[id];
  if (n.kind == ExprNode::Neg) return decimal_literal(e, n.a);
  return n.kind == ExprNode::Number && n.exact.has_value();  // \pi and e have no exact value
}

bool power_of_ten(const Expr& e, int id) {
  const ExprNode& n = e.nodes[id];
  if (n.kind != ExprNode::Pow) return false;
  const ExprNode& base = e.nodes[n.a];
  return base.kind == ExprNode::Number && base.exact && base.exact->num == 10 && base.exact->den == 1 &&
         integer_literal(e, n.b);
}

// A number written as one: 7, -7, 0.5, \frac{1}{2}, 10^{-3}, 1.5\times10^{3}. Inside a symbolic
// answer an unreduced fraction ("\frac{8}{2}\pi") counts as one: references are written so.
bool literal(const Expr& e, int id) {
  const ExprNode& n = e.nodes[id];
  switch (n.kind) {
    case ExprNode::Number: return n.exact.has_value();
    case ExprNode::Neg: return literal(e, n.a);
    case ExprNode::Div: return integer_literal(e, n.a) && integer_literal(e, n.b);
    case ExprNode::Pow: return power_of_ten(e, id);
    case ExprNode::Mul: return decimal_literal(e, n.a) && power_of_ten(e, n.b);
    default: return false;
  }
}

// The operands of a chain of `kind` nodes rooted at `id` ("x+2+2" is Add(Add(x, 2), 2): the
// terms x, 2, 2); Sub joins Add's chain.
void chain_operands(const Expr& e, int id, ExprNode::Kind kind, std::vector<int>& out) {
  const ExprNode& n = e.nodes[id];
  const bool same = n.kind == kind || (kind == ExprNode::Add && n.kind == ExprNode::Sub);
  if (!same) {
    out.push_back(id);
    return;
  }
  chain_operands(e, n.a, kind, out);
  chain_operands(e, n.b, kind, out);
}

size_t count_literals(const Expr& e, const std::vector<int>& operands) {
  return static_cast<size_t>(std::count_if(operands.begin(), operands.end(), [&](int o) { return literal(e, o); }));
}

bool uncarried(const Expr& e, int id);

bool any_uncarried(const Expr& e, const std::vector<int>& operands) {
  return std::any_of(operands.begin(), operands.end(), [&](int o) { return uncarried(e, o); });
}

// Two or more literal terms in one sum or factors in one product ("x+2+2", "2x\cdot3") are
// arithmetic not carried out. A chain is looked at once from its root, so the test is linear.
bool uncarried(const Expr& e, int id) {
  const ExprNode& n = e.nodes[id];
  std::vector<int> operands;
  switch (n.kind) {
    case ExprNode::Add:
    case ExprNode::Sub:
      chain_operands(e, id, ExprNode::Add, operands);
      return count_literals(e, operands) >= 2 || any_uncarried(e, operands);
    case ExprNode::Mul:
      if (literal(e, id)) return false;  // scientific notation
      chain_operands(e, id, ExprNode::Mul, operands);
      return count_literals(e, operands) >= 2 || any_uncarried(e, operands);
    case ExprNode::Div:
    case ExprNode::Pow: {
      // A power with a fractional exponent is a radical ("2^{1/3}"), a canonical form.
      const bool radical = n.kind == ExprNode::Pow && !integer_literal(e, n.b);
      if (!radical && !literal(e, id) && literal(e, n.a) && literal(e, n.b)) return true;
      return uncarried(e, n.a) || uncarried(e, n.b);
    }
    default:
      return (n.a >= 0 && uncarried(e, n.a)) || (n.b >= 0 && uncarried(e, n.b));
  }
}

// --- splitting compound answers ----------------------------------------------------------

bool opens(char c) { return c == '(' || c == '[' || c == '{'; }
bool closes(char c) { return c == ')' || c == ']' || c == '}'; }

// The text inside one pair of brackets that wraps all of `s`, or `s` itself.
std::string_view unwrap(std::string_view s) {
  if (s.size() >= 4 && s.substr(0, 2) == "\\{" && s.substr(s.size() - 2) == "\\}") return s.substr(2, s.size() - 4);
  if (s.size() < 2 || (s[0] != '(' && s[0] != '[') || (s.back() != ')' && s.back() != ']')) return s;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (opens(s[i])) ++depth;
    else if (closes(s[i]) && --depth == 0 && i + 1 != s.size()) return s;
  }
  return s.substr(1, s.size() - 2);
}

constexpr std::string_view kSeparatorCommands[] = {"\\leq", "\\geq", "\\neq", "\\le", "\\ge", "\\ne", "\\cup",
                                                   "\\cap", "\\pm",  "\\mp",  "\\to", "\\in", "\\lt", "\\gt"};

// Length of the separator at s[i] when the bracket depth is zero ("," "=" "<" ">" ";" or a
// relation command), else 0.
size_t separator_at(std::string_view s, size_t i) {
  if (s[i] == ',' || s[i] == '=' || s[i] == '<' || s[i] == '>' || s[i] == ';') return 1;
  for (auto command : kSeparatorCommands) {
    if (s.substr(i, command.size()) == command &&
        (i + command.size() == s.size() || !std::isalpha(static_cast<unsigned char>(s[i + command.size()])))) {
      return command.size();
    }
  }
  return 0;
}

// The parts of a compound answer, each a candidate expression.
void split_parts(std::string_view s, int depth, std::vector<std::string_view>& out) {
  if (depth > 16) return;
  const std::string_view inner = unwrap(s);
  std::vector<std::string_view> parts;
  int level = 0;
  size_t start = 0;
  for (size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\' && i + 1 < inner.size() && (opens(inner[i + 1]) || closes(inner[i + 1]))) {
      level += opens(inner[i + 1]) ? 1 : -1;
      ++i;
      continue;
    }
    if (opens(inner[i])) ++level;
    else if (closes(inner[i])) --level;
    else if (level == 0) {
      const size_t width = separator_at(inner, i);
      if (width == 0) continue;
      parts.push_back(inner.substr(start, i - start));
      start = i + width;
      i = start - 1;
    }
  }
  parts.push_back(inner.substr(start));
  if (parts.size() == 1 && inner.size() == s.size()) {
    out.push_back(s);
    return;
  }
  for (auto part : parts) {
    if (!part.empty()) split_parts(part, depth + 1, out);
  }
}

bool normalized_has_uncarried_arithmetic(const std::string& normalized) {
  std::vector<std::string_view> parts;
  split_parts(normalized, 0, parts);
  for (auto part : parts) {
    const auto expr = parse_expression(part);
    if (expr && expr->root >= 0 && uncarried(*expr, expr->root)) return true;
  }
  return false;
}

std::string quoted(const std::string& s) {
  constexpr size_t kMax = 40;
  return "'" + (s.size() > kMax ? s.substr(0, kMax) + "..." : s) + "'";
}

}  // namespace

AnswerForm parse_answer_form(const std::string& name) {
  if (name == "value") return AnswerForm::kValue;
  if (name == "equivalent") return AnswerForm::kEquivalent;
  throw Error("reward 'math_accuracy': param 'answer_form' must be one of value, equivalent; got '" + name + "'");
}

bool is_number_literal(const std::string& normalized) { return classify(normalized).has_value(); }

std::string value_form_problem(const std::string& gold, const std::string& pred) {
  const std::string g = normalize_answer(gold), p = normalize_answer(pred);
  if (p == g) return "";
  const auto gold_kind = classify(g);
  if (gold_kind) {
    const auto pred_kind = classify(p);
    if (!pred_kind) return quoted(pred) + " is not a number literal, and the reference is a number";
    const bool gold_is_fraction = *gold_kind == LiteralKind::kFraction || *gold_kind == LiteralKind::kWholeFraction;
    if (*pred_kind == LiteralKind::kWholeFraction && !gold_is_fraction) {
      return quoted(pred) + " is a division that was not carried out (a whole number written as a fraction)";
    }
    return "";
  }
  // A reference itself written with un-carried arithmetic ("\frac{8\pi}{2}") sets no bar.
  if (normalized_has_uncarried_arithmetic(p) && !normalized_has_uncarried_arithmetic(g)) {
    return quoted(pred) + " has arithmetic between numbers that was not carried out";
  }
  return "";
}

bool has_uncarried_arithmetic(const std::string& answer) {
  const std::string normalized = normalize_answer(answer);
  const auto kind = classify(normalized);
  if (kind) return *kind == LiteralKind::kWholeFraction;
  return normalized_has_uncarried_arithmetic(normalized);
}

}  // namespace grpo::rewards::math
