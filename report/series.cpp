// Smoothing, thinning and metric-name patterns; see series.h.
#include "report/series.h"

#include <cmath>

namespace grpo::report {

std::vector<double> ema(const std::vector<double>& values, double weight) {
  std::vector<double> out(values.size());
  double average = 0.0, kept = 1.0;  // kept = w^n, the share of the zero start still in `average`
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      out[i] = values[i];
      continue;
    }
    average = weight * average + (1.0 - weight) * values[i];
    kept *= weight;
    out[i] = average / (1.0 - kept);
  }
  return out;
}

std::vector<MetricPoint> thin(const std::vector<MetricPoint>& points, size_t max_points) {
  if (points.size() <= max_points || max_points < 2) return points;
  std::vector<MetricPoint> out;
  out.reserve(max_points);
  const double stride = static_cast<double>(points.size() - 1) / static_cast<double>(max_points - 1);
  for (size_t i = 0; i < max_points; ++i) out.push_back(points[static_cast<size_t>(std::lround(i * stride))]);
  return out;
}

bool glob_match(const std::string& pattern, const std::string& name) {
  // Iterative wildcard matching with one backtrack point: linear in practice, no recursion.
  size_t p = 0, n = 0, star = std::string::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace grpo::report
