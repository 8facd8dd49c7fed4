// The countdown equation checker's parser: digits, + - * /, parentheses, unary signs and
// spaces (TinyZero's allowed characters), evaluated exactly in rationals. It never runs an
// interpreter. Departures from TinyZero's Python eval, all stricter: `**` and `//` are
// rejected, and equality with the target is exact unless a tolerance is given.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rewards/math/expr.h"

namespace grpo::rewards {

struct CountdownEquation {
  std::optional<math::Rational> value;  // nullopt: not evaluable (see error)
  std::vector<long> numbers;             // every maximal digit run, as TinyZero's \d+ finds them
  std::string error;
};

CountdownEquation evaluate_countdown_equation(std::string_view equation);

}  // namespace grpo::rewards
