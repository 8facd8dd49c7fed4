// Exhaustive countdown solver: which integers can be made from a list of numbers using each
// number exactly once with + - * / and any bracketing. Arithmetic is exact (rationals), so
// intermediate fractions are allowed, as in TinyZero, whose checker evaluates the whole
// equation. A branch whose intermediate value would overflow 64 bits is dropped. Intended
// for the 3-5 small numbers of generated tasks; the search grows factorially with the count,
// and more than 8 numbers is a grpo::Error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grpo::datasets {

// Every integer value in [lo, hi] reachable from `numbers`, sorted ascending, without repeats.
std::vector<int64_t> reachable_integers(const std::vector<int64_t>& numbers, int64_t lo, int64_t hi);

// An equation that uses each of `numbers` exactly once and equals `target`, such as
// "(44 + 19) - 35"; compound operands are always parenthesized. The first one found in a
// fixed search order, so it is deterministic. nullopt when the target is unreachable.
std::optional<std::string> countdown_solution(const std::vector<int64_t>& numbers, int64_t target);

}  // namespace grpo::datasets
