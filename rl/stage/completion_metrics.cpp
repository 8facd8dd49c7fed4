// Reward, length and reflection-phrase metrics of a step's completions; see completion_metrics.h.
#include "rl/stage/completion_metrics.h"

#include <algorithm>
#include <cmath>

#include "rewards/audit.h"
#include "rewards/reward.h"
#include "core/text/reflection_phrases.h"

namespace grpo::rl {

double length_p90(std::vector<int64_t> lengths) {
  const auto rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(lengths.size())));
  const auto at = lengths.begin() + static_cast<std::ptrdiff_t>(std::max<size_t>(rank, 1) - 1);
  std::nth_element(lengths.begin(), at, lengths.end());
  return static_cast<double>(*at);
}

std::map<std::string, double> completion_metrics(const rewards::RewardSet& reward_set, const StepCompletions& step,
                                                 const std::vector<std::string>& reflection_phrases) {
  const auto& names = reward_set.names();
  const size_t correct_index = reward_set.correctness_index();
  // The format role as the hacking audit defines it (format or tag_count, whatever its alias).
  const auto format_index = rewards::audit_roles(reward_set.kinds(), correct_index).format;
  const auto& values = step.values;
  const double n = static_cast<double>(values.size());
  std::vector<double> sums(names.size(), 0.0);
  double correct = 0, formatted = 0, length = 0, cut = 0;
  for (size_t j = 0; j < values.size(); ++j) {
    for (size_t r = 0; r < names.size(); ++r) sums[r] += values[j][r];
    correct += rewards::reward_satisfied(values[j][correct_index]);
    if (format_index) formatted += rewards::reward_satisfied(values[j][*format_index]);
    length += static_cast<double>(step.lengths[j]);
    cut += step.truncated[j];
  }
  std::map<std::string, double> m = reflection_metrics(step.texts, reflection_phrases);
  for (size_t r = 0; r < names.size(); ++r) m["reward/" + names[r] + "/mean"] = sums[r] / n;
  m["reward/accuracy"] = correct / n;
  if (format_index) m["reward/format_rate"] = formatted / n;
  m["completion/length_mean"] = length / n;
  m["completion/length_p90"] = length_p90(step.lengths);
  m["completion/truncated_frac"] = cut / n;
  return m;
}

}  // namespace grpo::rl
