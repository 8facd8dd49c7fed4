// A weighted composition of named rewards, as YAML configures them: a list of
// {name, weight, params}. Scores a batch: CPU rewards on grpo::ThreadPool::shared(), rewards
// that run child processes or wait on a service (code, external, http) on a pool of their own
// so slow programs never starve the cheap rewards; a reward that scores whole batches
// (external, http) gets the batch.
// Returns every reward's value and reason per sample and the weighted total. It does not
// normalize or aggregate across samples (advantages live in rl/).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "rewards/reward.h"

namespace grpo::rewards {

struct RewardSpec {
  RewardSpec() = default;
  RewardSpec(std::string name_, double weight_ = 1.0, nlohmann::json params_ = nlohmann::json::object(),
             std::string alias_ = "")
      : name(std::move(name_)), weight(weight_), params(std::move(params_)), alias(std::move(alias_)) {}

  std::string name;  // the registered reward
  double weight = 1.0;
  nlohmann::json params = nlohmann::json::object();
  std::string alias;  // the name its values are reported under; "" = name
  const std::string& reported_name() const { return alias.empty() ? name : alias; }
};

struct BatchScores {
  std::vector<std::string> names;                 // reward order, as in the specs
  std::vector<std::vector<double>> values;        // [sample][reward]
  std::vector<std::vector<std::string>> reasons;  // [sample][reward]
  std::vector<double> totals;                     // [sample] Σ weight · value
};

class RewardSet {
 public:
  // Throws grpo::Error for an unknown reward, bad params, or a reported name listed twice.
  explicit RewardSet(const std::vector<RewardSpec>& specs);
  ~RewardSet();

  // `describe(i)` names sample i in errors (default "sample i"); a reward's grpo::Error for a
  // sample (a missing field, say) is rethrown prefixed with it.
  BatchScores score(const std::vector<Sample>& samples,
                    const std::function<std::string(size_t)>& describe = nullptr) const;

  // The names values are reported under (metrics, records, reasons): each spec's alias or name.
  const std::vector<std::string>& names() const { return names_; }
  // The registered reward behind each entry, for rules that depend on what a reward is (the
  // correctness and format roles), whatever its alias.
  const std::vector<std::string>& kinds() const { return kinds_; }
  const std::vector<double>& weights() const { return weights_; }
  // The reward that says whether an answer is correct (the first of math_accuracy, countdown,
  // code, external, http), which accuracy metrics, pass@k and distillation filters read; the first
  // reward when none of those is configured.
  size_t correctness_index() const;

 private:
  std::vector<std::string> names_, kinds_;
  std::vector<double> weights_;
  std::vector<std::unique_ptr<Reward>> rewards_;
  std::unique_ptr<ThreadPool> process_pool_;  // only when a reward runs processes
};

}  // namespace grpo::rewards
