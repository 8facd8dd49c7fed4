// Pure operations on one metric series for the report: exponential smoothing as TensorBoard
// does it, thinning a long series to what a small chart can show, and the glob patterns the
// headline panel names metrics by. No drawing and no run store access here.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/run_store.h"

namespace grpo::report {

// Debiased exponential moving average: s_i = w*s_{i-1} + (1-w)*x_i over the finite values,
// divided by 1 - w^n (n = finite values seen so far), so the first point equals its raw value
// instead of being pulled toward 0. A non-finite value stays non-finite in the output and does
// not enter the average. weight in [0, 1): 0 returns the values unchanged.
std::vector<double> ema(const std::vector<double>& values, double weight);

// At most `max_points` points of `points`, evenly strided, always keeping the first and the
// last. Charts are 360 pixels wide: more points than that only grow the file.
std::vector<MetricPoint> thin(const std::vector<MetricPoint>& points, size_t max_points);

// True when `name` matches `pattern`, where '*' stands for any run of characters ('/' too):
// "reward/*/mean" matches "reward/format/mean".
bool glob_match(const std::string& pattern, const std::string& name);

}  // namespace grpo::report
