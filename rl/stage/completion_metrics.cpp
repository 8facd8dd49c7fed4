// Reward and length metrics of a step's completions; see completion_metrics.h.
#include "rl/stage/completion_metrics.h"

#include "rewards/reward.h"

namespace grpo::rl {

std::map<std::string, double> completion_metrics(const rewards::RewardSet& reward_set,
                                                 const std::vector<std::vector<double>>& values,
                                                 const std::vector<int64_t>& lengths, const std::vector<bool>& truncated) {
  const auto& names = reward_set.names();
  const size_t correct_index = reward_set.correctness_index();
  const double n = static_cast<double>(values.size());
  std::vector<double> sums(names.size(), 0.0);
  double correct = 0, length = 0, cut = 0;
  for (size_t j = 0; j < values.size(); ++j) {
    for (size_t r = 0; r < names.size(); ++r) sums[r] += values[j][r];
    correct += rewards::reward_satisfied(values[j][correct_index]);
    length += static_cast<double>(lengths[j]);
    cut += truncated[j];
  }
  std::map<std::string, double> m;
  for (size_t r = 0; r < names.size(); ++r) m["reward/" + names[r] + "/mean"] = sums[r] / n;
  m["reward/accuracy"] = correct / n;
  m["completion/length_mean"] = length / n;
  m["completion/truncated_frac"] = cut / n;
  return m;
}

}  // namespace grpo::rl
