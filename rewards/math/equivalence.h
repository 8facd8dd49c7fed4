// Deciding whether a predicted math answer equals the reference: exact after normalization;
// numeric (integers exactly, everything else within a tolerance relative to max(1, |gold|));
// tuples (ordered), intervals (brackets must match), sets and bare lists (unordered), unions
// of intervals; simple algebraic expressions by evaluation at random points; text answers
// case-insensitively. It does not simplify symbolically, solve equations, or compare
// matrices; an answer it cannot parse is compared as text.
#pragma once

#include <string>

namespace grpo::rewards::math {

struct EquivalenceOptions {
  double tolerance = 1e-6;   // |a - b| <= tolerance * max(1, |gold|)
  int random_points = 8;     // evaluation points for expressions with variables
};

struct Verdict {
  bool equal = false;
  std::string how;  // "exact", "numeric", "symbolic", "tuple", "set", "interval", "text", or why not
};

// Both strings are raw answers (already extracted); they are normalized here.
Verdict answers_equivalent(const std::string& gold, const std::string& pred, const EquivalenceOptions& options = {});

}  // namespace grpo::rewards::math
