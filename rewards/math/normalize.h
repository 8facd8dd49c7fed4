// Normalization of a math answer string before comparison: strips LaTeX decoration that does
// not change the value (\left/\right, \dfrac/\tfrac, spacing commands, $ and \boxed wrappers,
// \text{} wrappers and trailing units, words that end the answer after a number ("94
// apples"), degrees, percent, thousands separators, trailing periods, "x =" prefixes), writes
// \le, \geq, ≤ ... as "<=" and ">=", joins "a and b" as "a,b", and turns mixed numbers into sums.
// It does not parse or evaluate: the result is still text (see expr.h). Every step is a linear
// scan; nothing backtracks.
#pragma once

#include <string>

namespace grpo::rewards::math {

std::string normalize_answer(const std::string& raw);

// Removes one layer of `\boxed{...}` / `\fbox{...}` when it wraps the whole string.
std::string strip_box_wrapper(const std::string& s);

}  // namespace grpo::rewards::math
