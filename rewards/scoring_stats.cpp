// Running per-reward statistics; see scoring_stats.h.
#include "rewards/scoring_stats.h"

#include <algorithm>

namespace grpo::rewards {

void ScoringStats::Sums::add(double value) {
  ++n;
  nonzero += value != 0.0;
  sum += value;
  sum_sq += value * value;
  min = std::min(min, value);
  max = std::max(max, value);
}

ScoringStats::ScoringStats(const RewardSet& set)
    : names_(set.names()), weights_(set.weights()), per_reward_(set.names().size()) {}

void ScoringStats::add(const BatchScores& scores) {
  for (size_t i = 0; i < scores.totals.size(); ++i) {
    for (size_t r = 0; r < per_reward_.size(); ++r) per_reward_[r].add(scores.values[i][r]);
    total_.add(scores.totals[i]);
  }
}

RewardStats ScoringStats::summary(const std::string& name, std::optional<double> weight, const Sums& s) {
  RewardStats out;
  out.name = name;
  out.weight = weight;
  out.count = s.n;
  out.mean = s.sum / s.n;
  // E[x²] - E[x]², floored at 0 against rounding: one pass, constant memory.
  out.stddev = std::sqrt(std::max(0.0, s.sum_sq / s.n - out.mean * out.mean));
  out.min = s.min;
  out.max = s.max;
  out.nonzero = s.nonzero;
  return out;
}

std::vector<RewardStats> ScoringStats::rows() const {
  std::vector<RewardStats> out;
  if (total_.n == 0) return out;
  for (size_t r = 0; r < names_.size(); ++r) out.push_back(summary(names_[r], weights_[r], per_reward_[r]));
  out.push_back(summary("total", std::nullopt, total_));
  return out;
}

}  // namespace grpo::rewards
