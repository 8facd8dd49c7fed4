// Batch scoring of a weighted reward set; see reward_set.h.
#include "rewards/reward_set.h"

#include <algorithm>
#include <future>

#include "core/error.h"

namespace grpo::rewards {

RewardSet::RewardSet(const std::vector<RewardSpec>& specs) {
  if (specs.empty()) throw Error("reward set: no rewards configured");
  bool processes = false;
  for (const auto& spec : specs) {
    const std::string& name = spec.reported_name();
    if (std::find(names_.begin(), names_.end(), name) != names_.end()) {
      throw Error("reward set: reward '" + name + "' is listed twice (give one an alias)");
    }
    names_.push_back(name);
    kinds_.push_back(spec.name);
    weights_.push_back(spec.weight);
    rewards_.push_back(make_reward(spec.name, spec.params));
    processes = processes || rewards_.back()->runs_processes();
  }
  if (processes) process_pool_ = std::make_unique<ThreadPool>(0);
}

RewardSet::~RewardSet() = default;

BatchScores RewardSet::score(const std::vector<Sample>& samples, const std::function<std::string(size_t)>& describe) const {
  BatchScores out;
  out.names = names_;
  out.values.assign(samples.size(), std::vector<double>(rewards_.size(), 0.0));
  out.reasons.assign(samples.size(), std::vector<std::string>(rewards_.size()));
  out.totals.assign(samples.size(), 0.0);

  auto score_one = [&](size_t i, size_t r) {
    try {
      auto result = rewards_[r]->score(samples[i]);
      out.values[i][r] = result.value;
      out.reasons[i][r] = std::move(result.reason);
    } catch (const Error& e) {
      const std::string who = describe ? describe(i) : "sample " + std::to_string(i);
      throw Error(who + ": reward '" + names_[r] + "': " + e.message());
    }
  };

  // A reward that scores whole batches spreads them over its own workers; its errors concern
  // the reward, not one sample.
  auto score_all = [&](size_t r) {
    try {
      auto results = rewards_[r]->score_batch(samples);
      for (size_t i = 0; i < samples.size(); ++i) {
        out.values[i][r] = results[i].value;
        out.reasons[i][r] = std::move(results[i].reason);
      }
    } catch (const Error& e) {
      throw Error("reward '" + names_[r] + "': " + e.message());
    }
  };

  std::vector<std::future<void>> slow;
  for (size_t r = 0; r < rewards_.size(); ++r) {
    if (!rewards_[r]->runs_processes()) continue;
    if (rewards_[r]->scores_in_batches()) {
      slow.push_back(process_pool_->submit([&score_all, r] { score_all(r); }));
      continue;
    }
    for (size_t i = 0; i < samples.size(); ++i) slow.push_back(process_pool_->submit([&score_one, i, r] { score_one(i, r); }));
  }
  std::exception_ptr first;
  try {
    ThreadPool::shared().parallel_for(samples.size(), [&](size_t i) {
      for (size_t r = 0; r < rewards_.size(); ++r) {
        if (!rewards_[r]->runs_processes()) score_one(i, r);
      }
    });
  } catch (...) {
    first = std::current_exception();
  }
  for (auto& f : slow) {
    try {
      f.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
  for (size_t i = 0; i < samples.size(); ++i) {
    for (size_t r = 0; r < rewards_.size(); ++r) out.totals[i] += weights_[r] * out.values[i][r];
  }
  return out;
}

size_t RewardSet::correctness_index() const {
  for (size_t i = 0; i < kinds_.size(); ++i)
    if (kinds_[i] == "math_accuracy" || kinds_[i] == "countdown" || kinds_[i] == "code" || kinds_[i] == "external" ||
        kinds_[i] == "http") {
      return i;
    }
  return 0;
}

}  // namespace grpo::rewards
