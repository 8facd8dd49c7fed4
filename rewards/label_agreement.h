// Comparing two pass/fail labelings of the same labeled cases, as `grpo reward check --cases`
// reports them when a team proves a reward set before training on it: a reward against the
// cases' expected labels, or two reward configs against each other. Also the latency summary
// of scoring one case at a time. Pure functions on vectors; no I/O, no LibTorch.
#pragma once

#include <cstddef>
#include <vector>

namespace grpo::rewards {

// The 2×2 confusion matrix of labelings `first` and `second` (true = pass) and where they differ.
struct LabelAgreement {
  size_t both_pass = 0, first_only = 0, second_only = 0, both_fail = 0;
  std::vector<size_t> disagreeing;  // case indices, ascending
  size_t cases() const { return both_pass + first_only + second_only + both_fail; }
  // Fraction of cases on which the labelings agree; 1 for no cases.
  double agreement() const;
};

// Throws grpo::Error when the labelings differ in length.
LabelAgreement compare_labels(const std::vector<bool>& first, const std::vector<bool>& second);

struct LatencySummary {
  double mean_s = 0, p50_s = 0, p99_s = 0, max_s = 0;
};

// Nearest-rank percentiles (the smallest value with at least p% of values at or below it) of
// per-case latencies in seconds; all zero for none.
LatencySummary summarize_latencies(std::vector<double> seconds);

}  // namespace grpo::rewards
