// Answer normalization; see normalize.h. Steps run in a fixed order because later ones rely
// on earlier ones (units are removed after \text{} is unwrapped, spaces last of all).
#include "rewards/math/normalize.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace grpo::rewards::math {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (s.find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (;;) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

// Index just past the brace group opening at `open` (s[open] == '{'), or npos if unbalanced.
size_t skip_group(const std::string& s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      continue;
    }
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i + 1;
  }
  return std::string::npos;
}

// Words dropped when they follow a quantity. Single letters are only dropped from \text{}.
constexpr std::array<std::string_view, 48> kUnits = {
    "cm", "mm", "km", "m", "meters", "meter", "metres", "inches", "inch", "in", "feet", "foot", "ft",
    "yards", "yard", "miles", "mile", "mph", "units", "unit", "sq", "square", "cubic", "degrees",
    "degree", "dollars", "dollar", "cents", "cent", "hours", "hour", "hrs", "minutes", "minute",
    "min", "seconds", "second", "sec", "s", "days", "day", "weeks", "years", "kg", "g", "grams",
    "pounds", "lbs"};

bool is_unit(std::string_view w) {
  return std::find(kUnits.begin(), kUnits.end(), w) != kUnits.end();
}

// Index past a "^2", "^3", "^{2}" or "^{3}" at `i` (an area or volume unit's power), else `i`.
size_t skip_unit_power(const std::string& s, size_t i) {
  if (s.compare(i, 2, "^2") == 0 || s.compare(i, 2, "^3") == 0) return i + 2;
  if (s.compare(i, 4, "^{2}") == 0 || s.compare(i, 4, "^{3}") == 0) return i + 4;
  return i;
}

// \text{...}, \mathrm{...}, \mbox{...}: a unit after a quantity is dropped, anything else keeps
// its content. Run after the wrappers were renamed to \text.
std::string unwrap_text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  bool after_quantity = false;  // a digit or a closing brace was already written
  size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, 6, "\\text{") == 0) {
      const size_t end = skip_group(s, i + 5);
      if (end == std::string::npos) break;
      std::string inner = s.substr(i + 6, end - i - 7);
      std::string word = inner;
      word.erase(std::remove(word.begin(), word.end(), ' '), word.end());
      i = end;
      if (after_quantity && is_unit(word)) {
        i = skip_unit_power(s, i);
        continue;
      }
      out += inner;
      after_quantity = after_quantity || inner.find_first_of("0123456789}") != std::string::npos;
      continue;
    }
    after_quantity = after_quantity || is_digit(s[i]) || s[i] == '}';
    out += s[i++];
  }
  if (i < s.size()) out.append(s, i, std::string::npos);
  return out;
}

// Plain-text words that the expression parser reads as mathematics ("2 pi"), never a noun.
constexpr std::array<std::string_view, 9> kMathWords = {"pi", "sqrt", "sin", "cos", "tan", "log", "ln", "exp", "infty"};

bool is_math_word(std::string_view w) {
  return std::find(kMathWords.begin(), kMathWords.end(), w) != kMathWords.end();
}

// Where the run of spaces and plain words that ends `s` begins: " red apples" in "94 red apples".
size_t trailing_words_start(const std::string& s) {
  size_t i = s.size();
  while (i > 0 && (is_alpha(s[i - 1]) || s[i - 1] == ' ')) --i;
  return i;
}

// Drops unit words of two letters or more that stand alone after a number ("5 cm", "12 dollars"),
// with an optional ^2 / ^3 attached, and any words that end the answer after a number ("94
// apples"): a quantity's noun, which math-verify drops too.
std::string drop_plain_units(const std::string& s) {
  const size_t words_only_from = trailing_words_start(s);
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (is_alpha(s[i]) && (i == 0 || !is_alpha(s[i - 1]))) {
      size_t j = i;
      while (j < s.size() && is_alpha(s[j])) ++j;
      const std::string_view word(s.data() + i, j - i);
      size_t k = out.size();
      while (k > 0 && out[k - 1] == ' ') --k;
      const bool after_number = k > 0 && (is_digit(out[k - 1]) || out[k - 1] == '}');
      const bool spaced = k < out.size();
      const bool noun_at_end = i >= words_only_from && !is_math_word(word);
      if (word.size() >= 2 && spaced && after_number && (is_unit(word) || noun_at_end)) {
        out.resize(k);
        i = skip_unit_power(s, j);
        continue;
      }
      out.append(word);
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// A quick test that spares most answers the copy: "\l", "\g" or "\n", or the first byte of ≤, ≥, ≠.
bool has_relation_command(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\xe2') return true;
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'l' || s[i + 1] == 'g' || s[i + 1] == 'n')) return true;
  }
  return false;
}

// "\le", "\leq", "\leqslant", "≤" -> "<=" (and the others likewise), while spaces still end the
// command names: "x \le 5" must not become "x\le5" and then be read as "\le5".
std::string relations_as_symbols(const std::string& s) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kRelations = {{
      {"\\leqslant", "<="}, {"\\geqslant", ">="}, {"\\leq", "<="}, {"\\geq", ">="}, {"\\le", "<="},
      {"\\ge", ">="}, {"\\lt", "<"}, {"\\gt", ">"}, {"\\neq", "\\ne"}, {"≤", "<="}, {"≥", ">="}, {"≠", "\\ne"}}};
  if (!has_relation_command(s)) return s;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool replaced = false;
    for (const auto& [from, to] : kRelations) {
      if (s[i] != from[0]) continue;
      const size_t end = i + from.size();
      if (s.compare(i, from.size(), from) != 0) continue;
      if (from[0] == '\\' && end < s.size() && is_alpha(s[end])) continue;  // a longer command
      out += to;
      i = end;
      replaced = true;
      break;
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

// "1,234,567" (the whole answer) becomes "1234567"; a tuple such as "1,2" is left alone.
std::string drop_thousands_separators(const std::string& s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  size_t lead = 0;
  while (i + lead < s.size() && is_digit(s[i + lead])) ++lead;
  if (lead == 0 || lead > 3) return s;
  size_t j = i + lead;
  bool any = false;
  while (j < s.size() && s[j] == ',') {
    for (size_t k = 1; k <= 3; ++k) {
      if (j + k >= s.size() || !is_digit(s[j + k])) return s;
    }
    j += 4;
    any = true;
  }
  if (!any) return s;
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j;
  }
  if (j != s.size()) return s;
  std::string out = s;
  out.erase(std::remove(out.begin(), out.end(), ','), out.end());
  return out;
}

// "\frac12" -> "\frac{1}{2}": LaTeX takes single characters as arguments.
std::string brace_short_fractions(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 5, "\\frac") == 0 && i + 6 < s.size() && is_digit(s[i + 5]) && is_digit(s[i + 6])) {
      out += "\\frac{";
      out += s[i + 5];
      out += "}{";
      out += s[i + 6];
      out += '}';
      i += 6;
      continue;
    }
    out += s[i];
  }
  return out;
}

// "3\frac{1}{2}" and "3 1/2" are mixed numbers: "(3+\frac{1}{2})". Only whole-answer matches.
std::string expand_mixed_number(const std::string& s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  size_t j = i;
  while (j < s.size() && is_digit(s[j])) ++j;
  if (j == i || j >= s.size()) return s;
  const std::string whole = s.substr(i, j - i);
  const std::string sign = i ? "-" : "";
  size_t k = j;
  while (k < s.size() && s[k] == ' ') ++k;
  if (s.compare(k, 6, "\\frac{") == 0) {
    size_t a = k + 6, b = a;
    while (b < s.size() && is_digit(s[b])) ++b;
    if (b == a || s.compare(b, 2, "}{") != 0) return s;
    size_t c = b + 2, d = c;
    while (d < s.size() && is_digit(s[d])) ++d;
    if (d == c || d + 1 != s.size() || s[d] != '}') return s;
    return sign + "(" + whole + "+\\frac{" + s.substr(a, b - a) + "}{" + s.substr(c, d - c) + "})";
  }
  if (k == j) return s;  // "31/2" is not a mixed number
  size_t b = k;
  while (b < s.size() && is_digit(s[b])) ++b;
  if (b == k || b >= s.size() || s[b] != '/') return s;
  size_t d = b + 1;
  while (d < s.size() && is_digit(s[d])) ++d;
  if (d == b + 1 || d != s.size()) return s;
  return sign + "(" + whole + "+" + s.substr(k, d - k) + ")";
}

// "x = 5" -> "5", "f(x) = ..." is kept; only a bare variable (with subscript) on the left.
std::string drop_variable_prefix(const std::string& s) {
  const size_t eq = s.find('=');
  if (eq == std::string::npos || s.find('=', eq + 1) != std::string::npos) return s;
  if (eq > 0 && (s[eq - 1] == '<' || s[eq - 1] == '>' || s[eq - 1] == '!')) return s;
  std::string lhs = s.substr(0, eq);
  lhs.erase(std::remove(lhs.begin(), lhs.end(), ' '), lhs.end());
  if (lhs.empty()) return s;
  bool var = lhs[0] == '\\' || is_alpha(lhs[0]);
  for (char c : lhs) var = var && (is_alpha(c) || is_digit(c) || c == '_' || c == '\\' || c == '{' || c == '}');
  if (!var) return s;
  return s.substr(eq + 1);
}

std::string strip_outer(std::string s, std::string_view open, std::string_view close) {
  if (s.size() >= open.size() + close.size() && s.compare(0, open.size(), open) == 0 &&
      s.compare(s.size() - close.size(), close.size(), close) == 0) {
    return s.substr(open.size(), s.size() - open.size() - close.size());
  }
  return s;
}

std::string trim_spaces(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string strip_box_wrapper(const std::string& s) {
  for (std::string_view head : {"\\boxed{", "\\fbox{"}) {
    if (s.compare(0, head.size(), head) != 0) continue;
    const size_t end = skip_group(s, head.size() - 1);
    if (end == s.size()) return s.substr(head.size(), s.size() - head.size() - 1);
  }
  return s;
}

std::string normalize_answer(const std::string& raw) {
  std::string s = trim_spaces(raw);
  s = strip_outer(s, "\\(", "\\)");
  s = strip_outer(s, "\\[", "\\]");
  replace_all(s, "\\$", "");
  s.erase(std::remove(s.begin(), s.end(), '$'), s.end());
  for (std::string prev; prev != s;) {
    prev = s;
    s = strip_box_wrapper(trim_spaces(s));
  }
  for (std::string_view drop : {"\\left", "\\right", "\\displaystyle", "\\!", "\\,", "\\;", "\\:", "\\quad",
                                "\\qquad", "{,}", "\\%", "%", "^\\circ", "^{\\circ}", "\\circ", "\\degree",
                                "°", "\\limits"}) {
    replace_all(s, drop, drop == "\\quad" || drop == "\\qquad" ? " " : "");
  }
  replace_all(s, "\\ ", " ");
  replace_all(s, "~", " ");
  replace_all(s, "\\dfrac", "\\frac");
  replace_all(s, "\\tfrac", "\\frac");
  for (std::string_view wrapper : {"\\mathrm{", "\\textbf{", "\\mbox{", "\\mathbf{", "\\textit{", "\\operatorname{"}) {
    replace_all(s, wrapper, "\\text{");
  }
  s = unwrap_text(s);
  s = relations_as_symbols(s);
  s = brace_short_fractions(s);
  s = drop_plain_units(s);
  replace_all(s, ", and ", ",");
  replace_all(s, " and ", ",");
  s = trim_spaces(s);
  while (!s.empty() && (s.back() == '.' || s.back() == ',')) s = trim_spaces(s.substr(0, s.size() - 1));
  s = drop_variable_prefix(s);
  s = trim_spaces(s);
  s = expand_mixed_number(s);
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }),
          s.end());
  s = drop_thousands_separators(s);
  // A lone choice letter in parentheses: "(B)" -> "B".
  if (s.size() == 3 && s[0] == '(' && s[2] == ')' && s[1] >= 'A' && s[1] <= 'E') s = s.substr(1, 1);
  return s;
}

}  // namespace grpo::rewards::math
