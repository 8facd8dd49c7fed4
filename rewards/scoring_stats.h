// Per-reward statistics of scored completions, as `grpo reward` prints them after scoring a
// file: for every reward of a set and for the weighted total, the count, mean, population
// standard deviation, min, max and the number of non-zero values. Batches are added as they
// are scored, so a file of any length needs constant memory. It does not print. No LibTorch.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "rewards/reward_set.h"

namespace grpo::rewards {

struct RewardStats {
  std::string name;              // the reward's name, or "total"
  std::optional<double> weight;  // the reward's weight; none for the total
  size_t count = 0;
  size_t nonzero = 0;  // values != 0
  double mean = 0, stddev = 0, min = 0, max = 0;  // stddev: population (divides by count)
};

class ScoringStats {
 public:
  explicit ScoringStats(const RewardSet& set);

  // Every sample of one scored batch of `set`.
  void add(const BatchScores& scores);
  size_t count() const { return total_.n; }
  // One entry per reward in the set's order, then "total"; empty before anything was added.
  std::vector<RewardStats> rows() const;

 private:
  struct Sums {
    size_t n = 0, nonzero = 0;
    double sum = 0, sum_sq = 0, min = INFINITY, max = -INFINITY;
    void add(double value);
  };
  static RewardStats summary(const std::string& name, std::optional<double> weight, const Sums& sums);

  std::vector<std::string> names_;
  std::vector<double> weights_;
  std::vector<Sums> per_reward_;
  Sums total_;
};

}  // namespace grpo::rewards
