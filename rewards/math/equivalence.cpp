// Answer equivalence; see equivalence.h. Compound answers are split at top-level commas with a
// depth count that treats (, [, { alike, so half-open intervals such as "[1,2)" split correctly.
#include "rewards/math/equivalence.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <vector>

#include "rewards/math/expr.h"
#include "rewards/math/normalize.h"
#include "rewards/math/rational.h"

namespace grpo::rewards::math {
namespace {

constexpr size_t kMaxAnswerChars = 4096;

struct Compound {
  enum Kind { Single, Tuple, Interval, Set, List, Union } kind = Single;
  char open = 0, close = 0;
  std::vector<std::string> items;
};

bool opens(std::string_view s, size_t i) { return s[i] == '(' || s[i] == '[' || s[i] == '{'; }
bool closes(std::string_view s, size_t i) { return s[i] == ')' || s[i] == ']' || s[i] == '}'; }

// Splits at `sep` where the bracket depth is zero.
std::vector<std::string> split_top(std::string_view s, std::string_view sep) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (opens(s, i)) ++depth;
    else if (closes(s, i)) --depth;
    else if (depth == 0 && s.compare(i, sep.size(), sep) == 0) {
      parts.emplace_back(s.substr(start, i - start));
      start = i + sep.size();
      i = start - 1;
    }
  }
  parts.emplace_back(s.substr(start));
  return parts;
}

// True when the bracket at 0 closes exactly at the end ("(1,2)" but not "(1)(2)").
bool wraps_whole(std::string_view s) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (opens(s, i)) ++depth;
    else if (closes(s, i) && --depth == 0) return i + 1 == s.size();
  }
  return false;
}

// One letter, or one letter with a subscript ("x", "x_1"): the unknown of an inequality.
bool is_bare_variable(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return s.size() == 1 || (s[1] == '_' && s.find_first_of("+-*/^<>=\\", 2) == std::string::npos);
}

// "x>3" is (3, \infty), "3<=x" is [3, \infty), "-1<x<=5" is (-1, 5]: an inequality in one bare
// variable is the interval it describes, so it compares with intervals and with other
// inequalities (normalization already wrote \le, \geq, ≤ as "<=" and ">="). False, and `c`
// untouched, for anything else ("x+1>3", "a<b", "1<x>2").
bool inequality_as_interval(const std::string& s, Compound& c) {
  if (s.find_first_of("<>") == std::string::npos) return false;
  // One direction only: "1<x>2" is no interval. Each relation is "<" or "<=" (">" or ">=").
  auto parts = split_top(s, "<");
  const bool less = parts.size() > 1;
  if (less == (split_top(s, ">").size() > 1)) return false;
  if (!less) parts = split_top(s, ">");
  std::vector<bool> strict;  // strict[k]: the relation before parts[k + 1]
  for (size_t k = 1; k < parts.size(); ++k) {
    strict.push_back(parts[k].empty() || parts[k][0] != '=');
    if (!strict.back()) parts[k].erase(0, 1);
  }
  for (const auto& part : parts) {
    if (part.empty()) return false;
  }
  std::string lo = "-\\infty", hi = "\\infty";
  char open = '(', close = ')';
  if (parts.size() == 2) {
    // Read "3<x" as "x>3": the variable on the left.
    const bool variable_left = is_bare_variable(parts[0]);
    if (variable_left == is_bare_variable(parts[1])) return false;  // no variable, or two ("a<b")
    const std::string& bound = variable_left ? parts[1] : parts[0];
    const bool below = less == variable_left;  // x < bound
    (below ? hi : lo) = bound;
    if (!strict[0]) (below ? close : open) = below ? ']' : '[';
  } else if (parts.size() == 3 && is_bare_variable(parts[1])) {
    // lo < x < hi, else hi > x > lo
    lo = less ? parts[0] : parts[2];
    hi = less ? parts[2] : parts[0];
    if (!strict[less ? 0 : 1]) open = '[';
    if (!strict[less ? 1 : 0]) close = ']';
  } else {
    return false;
  }
  c.kind = Compound::Interval;
  c.open = open;
  c.close = close;
  c.items = {lo, hi};
  return true;
}

// "a\pm b" is the two answers a+b and a-b ("\pm 3" is 3 and -3, "\frac{1\pm\sqrt{5}}{2}" two
// fractions), compared as a list, as math-verify does. One \pm or \mp only; more is left alone.
size_t find_command(const std::string& s, std::string_view command, size_t from = 0) {
  for (size_t at = s.find(command, from); at != std::string::npos; at = s.find(command, at + 1)) {
    const size_t end = at + command.size();
    if (end == s.size() || !std::isalpha(static_cast<unsigned char>(s[end]))) return at;  // not "\pmod"
  }
  return std::string::npos;
}

bool plus_minus_as_list(const std::string& s, Compound& c) {
  size_t at = find_command(s, "\\pm");
  if (at == std::string::npos) at = find_command(s, "\\mp");
  if (at == std::string::npos || find_command(s, "\\pm", at + 3) != std::string::npos ||
      find_command(s, "\\mp", at + 3) != std::string::npos) {
    return false;
  }
  const std::string head = s.substr(0, at), tail = s.substr(at + 3);
  c.kind = Compound::List;
  c.items = {head + "+" + tail, head + "-" + tail};
  return true;
}

Compound parse_compound(const std::string& s) {
  Compound c;
  auto unions = split_top(s, "\\cup");
  if (unions.size() > 1) {
    c.kind = Compound::Union;
    c.items = std::move(unions);
    return c;
  }
  if (s.size() >= 4 && s.compare(0, 2, "\\{") == 0 && s.compare(s.size() - 2, 2, "\\}") == 0) {
    c.kind = Compound::Set;
    const std::string inner = s.substr(2, s.size() - 4);
    c.items = inner.empty() ? std::vector<std::string>{} : split_top(inner, ",");
    return c;
  }
  if (s.size() >= 2 && (s[0] == '(' || s[0] == '[') && (s.back() == ')' || s.back() == ']') && wraps_whole(s)) {
    auto items = split_top(std::string_view(s).substr(1, s.size() - 2), ",");
    if (items.size() > 1) {
      c.kind = (s[0] == '(' && s.back() == ')') ? Compound::Tuple : Compound::Interval;
      c.open = s[0];
      c.close = s.back();
      c.items = std::move(items);
      return c;
    }
  }
  auto items = split_top(s, ",");
  if (items.size() == 1 && (inequality_as_interval(s, c) || plus_minus_as_list(s, c))) return c;
  c.kind = items.size() > 1 ? Compound::List : Compound::Single;
  c.items = std::move(items);
  return c;
}

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Numbers agree to `tolerance` absolutely, as math-verify's rounding to 6 decimal places does
// (1/3 is 0.333333, 123456.789 is not 123456.7891); the relative term only absorbs the rounding
// of doubles for large values ("4.4\times10^{5}" against 440000).
bool numbers_close(double gold, double pred, double tolerance) {
  if (std::isinf(gold) || std::isinf(pred)) return gold == pred;
  return std::fabs(gold - pred) <= tolerance + 1e-12 * std::max(std::fabs(gold), std::fabs(pred));
}

// Values of two expressions at one random point, relative to their size.
bool close_enough(double gold, double pred, double tolerance) {
  if (std::isinf(gold) || std::isinf(pred)) return gold == pred;
  return std::fabs(gold - pred) <= tolerance * std::max(1.0, std::fabs(gold));
}

std::vector<double> values_for(const Expr& e, const std::vector<std::string>& names, const std::vector<double>& point) {
  std::vector<double> values(e.vars.size());
  for (size_t i = 0; i < e.vars.size(); ++i) {
    values[i] = point[std::find(names.begin(), names.end(), e.vars[i]) - names.begin()];
  }
  return values;
}

Verdict compare_symbolic(const Expr& gold, const Expr& pred, const EquivalenceOptions& options) {
  std::vector<std::string> names = gold.vars;
  for (const auto& v : pred.vars) {
    if (std::find(names.begin(), names.end(), v) == names.end()) names.push_back(v);
  }
  if (names.size() > 8) return {false, "too many variables"};
  uint64_t state = 0x5eed;
  int agreeing = 0;
  for (int k = 0; k < options.random_points; ++k) {
    std::vector<double> point(names.size());
    for (auto& x : point) x = 0.5 + 2.5 * static_cast<double>(splitmix(state) >> 11) / 9007199254740992.0;
    const double g = evaluate(gold, values_for(gold, names, point));
    const double p = evaluate(pred, values_for(pred, names, point));
    if (!std::isfinite(g) || !std::isfinite(p)) continue;
    if (!close_enough(g, p, options.tolerance)) return {false, "differs at a random point"};
    ++agreeing;
  }
  if (agreeing < 3) return {false, "not evaluable at enough points"};
  return {true, "symbolic"};
}

bool mentions_infinity(const Expr& e) {
  for (const auto& n : e.nodes) {
    if (n.kind == ExprNode::Infinity) return true;
  }
  return false;
}

Verdict compare_numbers(const Expr& gold, const Expr& pred, const EquivalenceOptions& options) {
  if (gold.is_integer_literal && pred.is_integer_literal) {
    return gold.integer_digits == pred.integer_digits ? Verdict{true, "exact"} : Verdict{false, "different integer"};
  }
  const auto g_exact = evaluate_exact(gold), p_exact = evaluate_exact(pred);
  // An integer is exact on either side: 94.0 is 94 but 94.0000001 is not (math-verify agrees).
  if (g_exact && p_exact && (g_exact->den == 1 || p_exact->den == 1)) {
    return *g_exact == *p_exact ? Verdict{true, "numeric"} : Verdict{false, "different number"};
  }
  const double g = evaluate(gold, {}), p = evaluate(pred, {});
  if (std::isnan(g) || std::isnan(p)) return {false, "not a number"};
  // Overflow to infinity is not the value \infty: two different huge numbers are not equal.
  if ((std::isinf(g) && !mentions_infinity(gold)) || (std::isinf(p) && !mentions_infinity(pred))) {
    return {false, "too large to compare"};
  }
  return numbers_close(g, p, options.tolerance) ? Verdict{true, "numeric"} : Verdict{false, "different number"};
}

std::string text_key(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '{' || c == '}' || c == '\\' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Two letters in a row outside a command: a word ("Monday"), compared as text, not as x*y.
bool has_word(const std::string& s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if (std::isalpha(static_cast<unsigned char>(s[i])) && std::isalpha(static_cast<unsigned char>(s[i - 1]))) {
      size_t j = i;
      while (j > 0 && std::isalpha(static_cast<unsigned char>(s[j - 1]))) --j;
      if (j == 0 || s[j - 1] != '\\') return true;
    }
  }
  return false;
}

Verdict compare_element(const std::string& gold, const std::string& pred, const EquivalenceOptions& options);

// "a=b" on both sides: same sides in either order.
Verdict compare_equations(const std::string& gold, const std::string& pred, const EquivalenceOptions& options) {
  const auto g = split_top(gold, "="), p = split_top(pred, "=");
  if (g.size() != 2 || p.size() != 2) return {false, "different equation"};
  const bool same = compare_element(g[0], p[0], options).equal && compare_element(g[1], p[1], options).equal;
  const bool swapped = compare_element(g[0], p[1], options).equal && compare_element(g[1], p[0], options).equal;
  return same || swapped ? Verdict{true, "equation"} : Verdict{false, "different equation"};
}

Verdict compare_element(const std::string& gold, const std::string& pred, const EquivalenceOptions& options) {
  if (gold == pred) return {true, "exact"};
  if (gold.empty() || pred.empty()) return {false, "empty"};
  const bool g_eq = gold.find('=') != std::string::npos, p_eq = pred.find('=') != std::string::npos;
  if (g_eq && p_eq) return compare_equations(gold, pred, options);
  if (has_word(gold) && text_key(gold) == text_key(pred)) return {true, "text"};
  const auto g = parse_expression(gold);
  const auto p = parse_expression(pred);
  if (g && p) {
    if (g->vars.empty() && p->vars.empty()) return compare_numbers(*g, *p, options);
    return compare_symbolic(*g, *p, options);
  }
  if (text_key(gold) == text_key(pred)) return {true, "text"};
  return {false, g ? "prediction does not parse" : "different text"};
}

Verdict compare_unordered(const std::vector<std::string>& gold, const std::vector<std::string>& pred,
                          const EquivalenceOptions& options, const char* how);

Verdict compare_compound(const Compound& g, const Compound& p, const EquivalenceOptions& options);

// Elements of a compound answer are normalized again: "x=1, x=2" splits into "x=1" and "x=2".
Verdict compare_item(const std::string& gold, const std::string& pred, const EquivalenceOptions& options) {
  return compare_compound(parse_compound(normalize_answer(gold)), parse_compound(normalize_answer(pred)), options);
}

Verdict compare_ordered(const std::vector<std::string>& gold, const std::vector<std::string>& pred,
                        const EquivalenceOptions& options, const char* how) {
  if (gold.size() != pred.size()) return {false, "different number of elements"};
  for (size_t i = 0; i < gold.size(); ++i) {
    if (!compare_item(gold[i], pred[i], options).equal) return {false, "element " + std::to_string(i + 1) + " differs"};
  }
  return {true, how};
}

Verdict compare_unordered(const std::vector<std::string>& gold, const std::vector<std::string>& pred,
                          const EquivalenceOptions& options, const char* how) {
  if (gold.size() != pred.size()) return {false, "different number of elements"};
  if (gold.size() > 64) return {false, "too many elements"};
  std::vector<bool> used(pred.size(), false);
  for (const auto& g : gold) {
    bool matched = false;
    for (size_t j = 0; j < pred.size() && !matched; ++j) {
      if (!used[j] && compare_item(g, pred[j], options).equal) used[j] = matched = true;
    }
    if (!matched) return {false, "an element has no match"};
  }
  return {true, how};
}

Verdict compare_compound(const Compound& g, const Compound& p, const EquivalenceOptions& options) {
  using K = Compound::Kind;
  if (g.kind == K::Single && p.kind == K::Single) return compare_element(g.items[0], p.items[0], options);
  if (g.kind == K::Single && p.items.size() == 1) return compare_element(g.items[0], p.items[0], options);
  if (p.kind == K::Single && g.items.size() == 1) return compare_element(g.items[0], p.items[0], options);
  if (g.kind == K::Union || p.kind == K::Union) {
    if (g.kind != p.kind) return {false, "union against non-union"};
    return compare_unordered(g.items, p.items, options, "union");
  }
  if (g.kind == K::Interval || p.kind == K::Interval) {
    // "(1, 5)" is a tuple or an open interval; next to an interval it is the interval.
    const auto interval_like = [](const Compound& c) {
      return c.kind == K::Interval || (c.kind == K::Tuple && c.items.size() == 2);
    };
    if (!interval_like(g) || !interval_like(p)) return {false, "interval against non-interval"};
    if (g.open != p.open || g.close != p.close) return {false, "different interval brackets"};
    return compare_ordered(g.items, p.items, options, "interval");
  }
  if (g.kind == K::Tuple && (p.kind == K::Tuple || p.kind == K::List)) return compare_ordered(g.items, p.items, options, "tuple");
  if ((g.kind == K::Set || g.kind == K::List) && (p.kind == K::Set || p.kind == K::List)) {
    return compare_unordered(g.items, p.items, options, "set");
  }
  return {false, "different kinds of answer"};
}

}  // namespace

Verdict answers_equivalent(const std::string& gold, const std::string& pred, const EquivalenceOptions& options) {
  // Nested compounds recurse once per bracket level; real answers are far shorter than this.
  if (gold.size() > kMaxAnswerChars || pred.size() > kMaxAnswerChars) return {false, "answer too long"};
  const std::string g = normalize_answer(gold), p = normalize_answer(pred);
  if (g.empty() || p.empty()) return {false, "empty answer"};
  if (g == p) return {true, "exact"};
  const Compound g_compound = parse_compound(g), p_compound = parse_compound(p);
  Verdict verdict = compare_compound(g_compound, p_compound, options);
  // "74\%" reads as 74 (normalization dropped the sign) and as 0.74, as in math-verify.
  const bool g_percent = gold.find('%') != std::string::npos, p_percent = pred.find('%') != std::string::npos;
  if (!verdict.equal && g_percent != p_percent && g_compound.kind == Compound::Single &&
      p_compound.kind == Compound::Single) {
    const auto hundredth = [](const std::string& s) { return "\\frac{" + s + "}{100}"; };
    verdict = g_percent ? compare_element(hundredth(g), p, options) : compare_element(g, hundredth(p), options);
    if (verdict.equal) verdict.how = "percent";
  }
  return verdict;
}

}  // namespace grpo::rewards::math
