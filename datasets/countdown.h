// The countdown task, TinyZero style: 3-4 numbers and a target that can be made from them
// using each number exactly once with + - * /. Every target is chosen among the integers the
// exhaustive solver (countdown_solver.h) reaches, so every problem has a solution, and a
// reference solution is stored with it. Numbers may repeat. Deterministic in the seed. The
// held-out split is by the multiset of numbers (split.h): a test problem's numbers never
// appear together in any train problem, whatever the target.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"
#include "datasets/record.h"
#include "datasets/split.h"

namespace grpo::datasets {

struct CountdownOptions {
  int64_t min_count = 3;   // how many numbers a problem has
  int64_t max_count = 4;
  int64_t min_number = 1;
  int64_t max_number = 99;
  int64_t min_target = 1;
  int64_t max_target = 99;
  double test_fraction = 0.1;  // share of all problems that belong to the held-out split
};

inline void describe(config::Fields& f, CountdownOptions& o) {
  f.field("min_count", o.min_count, 3, "Fewest numbers in a problem (2..5).");
  f.field("max_count", o.max_count, 4, "Most numbers in a problem (2..5).");
  f.field("min_number", o.min_number, 1, "Smallest number drawn (>= 1).");
  f.field("max_number", o.max_number, 99, "Largest number drawn (<= 10000).");
  f.field("min_target", o.min_target, 1, "Smallest target.");
  f.field("max_target", o.max_target, 99, "Largest target.");
  f.field("test_fraction", o.test_fraction, 0.1, "Share of all problems reserved for the test split, in (0, 1).");
}

// Throws one grpo::Error listing every out-of-range option.
void validate(const CountdownOptions& options);

// "Using the numbers [44, 19, 35], create an equation that equals 98. You can use basic
// arithmetic operations (+, -, *, /) and each number can only be used once."
std::string countdown_prompt(const std::vector<int64_t>& numbers, int64_t target);

// `count` distinct problems of `split`. Each record: prompt, answer = the target in decimal,
// extra {"numbers": [...], "target": T, "solution": "<equation>"}.
std::vector<Record> generate_countdown(const CountdownOptions& options, int64_t count, uint64_t seed, Split split);

}  // namespace grpo::datasets
