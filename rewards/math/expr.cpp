// Recursive-descent parser and evaluator for math answers; see expr.h. Grammar, loosest first:
//   sum     := product (('+' | '-') product)*
//   product := unary (('*' | \cdot | \times | '/' | \div) unary | <implicit> power)*
//   unary   := ('-' | '+') unary | power
//   power   := postfix ('^' unary)?          (right-associative through unary)
//   postfix := primary '!'*
//   primary := number | variable | constant | (sum) | {sum} | [sum] | |sum| | command | function
#include "rewards/math/expr.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "rewards/math/rational.h"

namespace grpo::rewards::math {
namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 4000;

struct Function {
  const char* name;
  double (*fn)(double);
};

double sec(double x) { return 1.0 / std::cos(x); }
double csc(double x) { return 1.0 / std::sin(x); }
double cot(double x) { return 1.0 / std::tan(x); }
double log_natural(double x) { return std::log(x); }

// Index 0 is sqrt; "log" with a base is handled by the parser as a quotient of logs.
constexpr std::array<Function, 16> kFunctions = {{{"sqrt", [](double x) { return std::sqrt(x); }},
                                                  {"sin", [](double x) { return std::sin(x); }},
                                                  {"cos", [](double x) { return std::cos(x); }},
                                                  {"tan", [](double x) { return std::tan(x); }},
                                                  {"sec", sec},
                                                  {"csc", csc},
                                                  {"cot", cot},
                                                  {"arcsin", [](double x) { return std::asin(x); }},
                                                  {"arccos", [](double x) { return std::acos(x); }},
                                                  {"arctan", [](double x) { return std::atan(x); }},
                                                  {"sinh", [](double x) { return std::sinh(x); }},
                                                  {"cosh", [](double x) { return std::cosh(x); }},
                                                  {"tanh", [](double x) { return std::tanh(x); }},
                                                  {"ln", log_natural},
                                                  {"log", log_natural},
                                                  {"exp", [](double x) { return std::exp(x); }}}};

constexpr std::array<const char*, 24> kGreek = {"alpha", "beta",  "gamma", "delta", "epsilon", "varepsilon",
                                                "zeta",  "eta",   "theta", "vartheta", "iota", "kappa",
                                                "lambda", "mu",   "nu",    "xi",    "rho",   "sigma",
                                                "tau",   "phi",   "varphi", "chi",  "psi",   "omega"};

// Commands that continue a product or sum rather than start a factor.
constexpr std::array<const char*, 14> kInfix = {"cdot", "times", "div", "pm", "mp", "le", "ge", "leq",
                                                "geq", "ne", "cup", "cap", "to", "in"};

int find_function(std::string_view name) {
  for (size_t i = 0; i < kFunctions.size(); ++i) {
    if (name == kFunctions[i].name) return static_cast<int>(i);
  }
  return -1;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<Expr> run() {
    const int root = sum();
    skip_ws();
    if (root < 0 || i_ != s_.size()) return std::nullopt;
    out_.root = root;
    return std::move(out_);
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_;
  }
  char peek() {
    skip_ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  // The name of the command at the cursor ("\frac" -> "frac"), without consuming it.
  std::string_view command_at() {
    if (peek() != '\\') return {};
    size_t j = i_ + 1;
    while (j < s_.size() && is_alpha(s_[j])) ++j;
    return s_.substr(i_ + 1, j - i_ - 1);
  }
  bool eat_command(std::string_view name) {
    if (command_at() != name) return false;
    i_ += name.size() + 1;
    return true;
  }

  int node(ExprNode n) {
    if (out_.nodes.size() >= kMaxNodes) return -1;
    out_.nodes.push_back(n);
    return static_cast<int>(out_.nodes.size()) - 1;
  }
  int binary(ExprNode::Kind kind, int a, int b) {
    if (a < 0 || b < 0) return -1;
    ExprNode n;
    n.kind = kind;
    n.a = a;
    n.b = b;
    return node(n);
  }
  int unary_node(ExprNode::Kind kind, int a, int func = 0) {
    if (a < 0) return -1;
    ExprNode n;
    n.kind = kind;
    n.a = a;
    n.func = static_cast<uint8_t>(func);
    return node(n);
  }
  int number(double v, std::optional<Rational> exact) {
    ExprNode n;
    n.kind = ExprNode::Number;
    n.value = v;
    n.exact = exact;
    return node(n);
  }
  int variable(const std::string& name) {
    ExprNode n;
    n.kind = ExprNode::Variable;
    for (size_t k = 0; k < out_.vars.size(); ++k) {
      if (out_.vars[k] == name) n.var = static_cast<int>(k);
    }
    if (n.var < 0) {
      n.var = static_cast<int>(out_.vars.size());
      out_.vars.push_back(name);
    }
    return node(n);
  }

  struct DepthGuard {
    int& depth;
    explicit DepthGuard(int& d) : depth(++d) {}
    ~DepthGuard() { --depth; }
  };

  int sum() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return -1;
    int left = product();
    for (;;) {
      if (eat('+')) left = binary(ExprNode::Add, left, product());
      else if (eat('-')) left = binary(ExprNode::Sub, left, product());
      else return left;
      if (left < 0) return -1;
    }
  }

  bool starts_factor() {
    const char c = peek();
    if (is_digit(c) || is_alpha(c) || c == '(' || c == '{' || c == '.') return true;
    if (c != '\\') return false;
    const auto name = command_at();
    if (name.empty()) return false;
    for (const char* infix : kInfix) {
      if (name == infix) return false;
    }
    return true;
  }

  int product() {
    int left = unary();
    for (;;) {
      if (left < 0) return -1;
      if (eat('*') || eat_command("cdot") || eat_command("times")) left = binary(ExprNode::Mul, left, unary());
      else if (eat('/') || eat_command("div")) left = binary(ExprNode::Div, left, unary());
      else if (starts_factor()) left = binary(ExprNode::Mul, left, power());
      else return left;
    }
  }

  int unary() {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return -1;
    if (eat('-')) return unary_node(ExprNode::Neg, unary());
    if (eat('+')) return unary();
    return power();
  }

  int power() {
    const int base = postfix();
    if (base < 0 || !eat('^')) return base;
    return binary(ExprNode::Pow, base, unary());
  }

  int postfix() {
    int p = primary();
    while (p >= 0 && eat('!')) p = unary_node(ExprNode::Factorial, p);
    return p;
  }

  int group(char close) {
    const int inner = sum();
    return inner >= 0 && eat(close) ? inner : -1;
  }

  int primary() {
    const char c = peek();
    if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) return number_literal(false);
    if (eat('(')) return group(')');
    if (eat('{')) return group('}');
    if (eat('[')) return group(']');
    if (eat('|')) {
      const int inner = sum();
      return inner >= 0 && eat('|') ? unary_node(ExprNode::Abs, inner) : -1;
    }
    if (c == '\\') return command();
    if (is_alpha(c)) return word();
    return -1;
  }

  // Digits, an optional fraction and an optional exponent ("1.5e-3"). `single_digit` serves
  // "\frac12", where each argument is one character.
  int number_literal(bool single_digit) {
    const size_t start = i_;
    if (single_digit) {
      ++i_;
    } else {
      while (i_ < s_.size() && (is_digit(s_[i_]) || s_[i_] == '.')) ++i_;
    }
    const std::string mantissa(s_.substr(start, i_ - start));
    std::optional<Rational> exact = parse_decimal(mantissa);
    double value = std::strtod(mantissa.c_str(), nullptr);
    if (std::count(mantissa.begin(), mantissa.end(), '.') > 1) return -1;
    if (!single_digit && i_ + 1 < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t j = i_ + 1;
      if (j < s_.size() && (s_[j] == '+' || s_[j] == '-')) ++j;
      if (j < s_.size() && is_digit(s_[j])) {
        size_t k = j;
        while (k < s_.size() && is_digit(s_[k]) && k - j < 6) ++k;
        const long e = std::strtol(std::string(s_.substr(i_ + 1, k - i_ - 1)).c_str(), nullptr, 10);
        value *= std::pow(10.0, static_cast<double>(e));
        const auto scale = pow_int(Rational{10, 1}, e);
        exact = exact && scale ? mul(*exact, *scale) : std::nullopt;
        i_ = k;
      }
    }
    return number(value, exact);
  }

  // One argument of \frac or \sqrt: a brace group or a single character.
  int argument() {
    const char c = peek();
    if (c == '{') {
      ++i_;
      return group('}');
    }
    if (is_digit(c)) return number_literal(true);
    if (is_alpha(c)) {
      ++i_;
      return letter(c);
    }
    if (c == '\\') return command();
    return -1;
  }

  int letter(char c) {
    if (c == 'e') return number(std::exp(1.0), std::nullopt);
    std::string name(1, c);
    if (i_ < s_.size() && s_[i_] == '_') name += subscript();
    return variable(name);
  }

  std::string subscript() {
    ++i_;  // '_'
    if (i_ < s_.size() && s_[i_] == '{') {
      const size_t close = s_.find('}', i_);
      if (close == std::string_view::npos) return "_";
      const std::string sub = "_" + std::string(s_.substr(i_ + 1, close - i_ - 1));
      i_ = close + 1;
      return sub;
    }
    if (i_ < s_.size()) return "_" + std::string(1, s_[i_++]);
    return "_";
  }

  // A function applied to its argument, with "\sin^2 x" and "\log_2 x" forms.
  int apply_function(int func) {
    int base = -1;
    if (kFunctions[func].name == std::string_view("log") && eat('_')) base = argument();
    int exponent = -1;
    if (eat('^')) exponent = argument();
    const int arg = (peek() == '(' || peek() == '{') ? primary() : power();
    int value = unary_node(ExprNode::Func, arg, func);
    if (base >= 0) value = binary(ExprNode::Div, value, unary_node(ExprNode::Func, base, func));
    return exponent >= 0 ? binary(ExprNode::Pow, value, exponent) : value;
  }

  int command() {
    const std::string name(command_at());
    i_ += name.size() + 1;
    if (name == "frac" || name == "cfrac") {
      const int num = argument();
      return binary(ExprNode::Div, num, argument());
    }
    if (name == "sqrt") {
      int index = -1;
      if (eat('[')) index = group(']');
      const int radicand = argument();
      if (index < 0) return unary_node(ExprNode::Func, radicand, 0);
      return binary(ExprNode::Pow, radicand, binary(ExprNode::Div, number(1, Rational{1, 1}), index));
    }
    if (name == "pi") return number(M_PI, std::nullopt);
    if (name == "infty" || name == "infin") {
      ExprNode n;
      n.kind = ExprNode::Infinity;
      return node(n);
    }
    const int func = find_function(name);
    if (func >= 0) return apply_function(func);
    for (const char* greek : kGreek) {
      if (name == greek) {
        std::string var = "\\" + name;
        if (i_ < s_.size() && s_[i_] == '_') var += subscript();
        return variable(var);
      }
    }
    return -1;
  }

  // Plain-text letters: a function or constant name, else one single-letter variable.
  int word() {
    size_t j = i_;
    while (j < s_.size() && is_alpha(s_[j])) ++j;
    const std::string_view run = s_.substr(i_, j - i_);
    for (size_t len = std::min<size_t>(run.size(), 6); len >= 2; --len) {
      const std::string_view head = run.substr(0, len);
      if (head == "pi") {
        i_ += 2;
        return number(M_PI, std::nullopt);
      }
      const int func = find_function(head);
      if (func >= 0 && (j > i_ + len || peek_after(i_ + len) == '(' || peek_after(i_ + len) == '{')) {
        i_ += len;
        return apply_function(func);
      }
    }
    return letter(s_[i_++]);
  }
  char peek_after(size_t pos) { return pos < s_.size() ? s_[pos] : '\0'; }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
  Expr out_;
};

bool integer_literal(std::string_view text, std::string* digits) {
  size_t i = 0;
  std::string out;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    if (text[0] == '-') out = "-";
    i = 1;
  }
  while (i < text.size() && text[i] == '0' && i + 1 < text.size()) ++i;
  if (i >= text.size()) return false;
  for (; i < text.size(); ++i) {
    if (!is_digit(text[i])) return false;
    out += text[i];
  }
  if (out == "-0") out = "0";
  *digits = out;
  return true;
}

double factorial(double x) {
  if (x < 0 || x != std::floor(x)) return NAN;
  return x > 170 ? INFINITY : std::tgamma(x + 1);
}

double eval_node(const Expr& e, int id, const std::vector<double>& values) {
  const ExprNode& n = e.nodes[id];
  switch (n.kind) {
    case ExprNode::Number: return n.value;
    case ExprNode::Variable: return values[n.var];
    case ExprNode::Infinity: return INFINITY;
    case ExprNode::Add: return eval_node(e, n.a, values) + eval_node(e, n.b, values);
    case ExprNode::Sub: return eval_node(e, n.a, values) - eval_node(e, n.b, values);
    case ExprNode::Mul: return eval_node(e, n.a, values) * eval_node(e, n.b, values);
    case ExprNode::Div: return eval_node(e, n.a, values) / eval_node(e, n.b, values);
    case ExprNode::Pow: return std::pow(eval_node(e, n.a, values), eval_node(e, n.b, values));
    case ExprNode::Neg: return -eval_node(e, n.a, values);
    case ExprNode::Abs: return std::fabs(eval_node(e, n.a, values));
    case ExprNode::Factorial: return factorial(eval_node(e, n.a, values));
    case ExprNode::Func: return kFunctions[n.func].fn(eval_node(e, n.a, values));
  }
  return NAN;
}

std::optional<Rational> exact_node(const Expr& e, int id) {
  const ExprNode& n = e.nodes[id];
  auto both = [&](auto op) -> std::optional<Rational> {
    const auto a = exact_node(e, n.a);
    if (!a) return std::nullopt;
    const auto b = exact_node(e, n.b);
    if (!b) return std::nullopt;
    return op(*a, *b);
  };
  switch (n.kind) {
    case ExprNode::Number: return n.exact;
    case ExprNode::Add: return both([](const Rational& a, const Rational& b) { return add(a, b); });
    case ExprNode::Sub: return both([](const Rational& a, const Rational& b) { return sub(a, b); });
    case ExprNode::Mul: return both([](const Rational& a, const Rational& b) { return mul(a, b); });
    case ExprNode::Div: return both([](const Rational& a, const Rational& b) { return div(a, b); });
    case ExprNode::Pow:
      return both([](const Rational& a, const Rational& b) -> std::optional<Rational> {
        if (b.den != 1) return std::nullopt;
        return pow_int(a, static_cast<long>(b.num > 1000 ? 1000 : (b.num < -1000 ? -1000 : b.num)));
      });
    case ExprNode::Neg: {
      const auto a = exact_node(e, n.a);
      return a ? neg(*a) : std::nullopt;
    }
    case ExprNode::Abs: {
      const auto a = exact_node(e, n.a);
      return a ? std::optional<Rational>(Rational{a->num < 0 ? -a->num : a->num, a->den}) : std::nullopt;
    }
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<Expr> parse_expression(std::string_view text) {
  auto expr = Parser(text).run();
  if (expr) {
    std::string digits;
    expr->is_integer_literal = integer_literal(text, &digits);
    if (expr->is_integer_literal) expr->integer_digits = digits;
  }
  return expr;
}

double evaluate(const Expr& expr, const std::vector<double>& values) {
  return expr.root < 0 ? NAN : eval_node(expr, expr.root, values);
}

std::optional<Rational> evaluate_exact(const Expr& expr) {
  if (expr.root < 0 || !expr.vars.empty()) return std::nullopt;
  return exact_node(expr, expr.root);
}

}  // namespace grpo::rewards::math
