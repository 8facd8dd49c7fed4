// Confusion matrices and latency percentiles for the reward validation harness; see
// label_agreement.h.
#include "rewards/label_agreement.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"

namespace grpo::rewards {

double LabelAgreement::agreement() const {
  const size_t n = cases();
  return n == 0 ? 1.0 : static_cast<double>(both_pass + both_fail) / static_cast<double>(n);
}

LabelAgreement compare_labels(const std::vector<bool>& first, const std::vector<bool>& second) {
  if (first.size() != second.size())
    throw Error("compare_labels: " + std::to_string(first.size()) + " labels against " +
                std::to_string(second.size()));
  LabelAgreement out;
  for (size_t i = 0; i < first.size(); ++i) {
    if (first[i] && second[i]) ++out.both_pass;
    if (first[i] && !second[i]) ++out.first_only;
    if (!first[i] && second[i]) ++out.second_only;
    if (!first[i] && !second[i]) ++out.both_fail;
    if (first[i] != second[i]) out.disagreeing.push_back(i);
  }
  return out;
}

LatencySummary summarize_latencies(std::vector<double> seconds) {
  LatencySummary s;
  if (seconds.empty()) return s;
  std::sort(seconds.begin(), seconds.end());
  const auto rank = [&](double p) {
    const auto k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(seconds.size())));
    return seconds[std::clamp<size_t>(k, 1, seconds.size()) - 1];
  };
  s.mean_s = std::accumulate(seconds.begin(), seconds.end(), 0.0) / static_cast<double>(seconds.size());
  s.p50_s = rank(50);
  s.p99_s = rank(99);
  s.max_s = seconds.back();
  return s;
}

}  // namespace grpo::rewards
