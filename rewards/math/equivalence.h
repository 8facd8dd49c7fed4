// Deciding whether a predicted math answer equals the reference: exact after normalization;
// numeric (an integer on either side exactly, other numbers to 6 decimal places as math-verify
// rounds them); tuples (ordered), intervals (brackets must match; an inequality in one variable
// is its interval, "(1, 5)" next to an interval is the open interval), sets and bare lists
// (unordered), "a \pm b" as the list a+b, a-b; unions of intervals; a percentage also as
// hundredths ("94\%" is 94 and 0.94); simple algebraic expressions by evaluation at random
// points; text answers case-insensitively. It does not simplify symbolically, solve equations,
// or compare matrices; an answer it cannot parse is compared as text.
#pragma once

#include <string>

namespace grpo::rewards::math {

struct EquivalenceOptions {
  double tolerance = 1e-6;   // numbers: |a - b| <= tolerance; expressions at a point: relative to max(1, |gold|)
  int random_points = 8;     // evaluation points for expressions with variables
};

struct Verdict {
  bool equal = false;
  std::string how;  // "exact", "numeric", "symbolic", "tuple", "set", "interval", "text", or why not
};

// Both strings are raw answers (already extracted); they are normalized here.
Verdict answers_equivalent(const std::string& gold, const std::string& pred, const EquivalenceOptions& options = {});

}  // namespace grpo::rewards::math
