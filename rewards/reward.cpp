// The reward registry and parameter checking; see reward.h.
#include "rewards/reward.h"

#include <algorithm>
#include <mutex>

#include "core/error.h"
#include "core/registry.h"
#include "core/strings.h"
#include "rewards/builtin.h"

namespace grpo::rewards {
namespace {

// Filled by register_builtin_rewards() on first use, then read only.
Registry<RewardFactory>& factories() {
  static Registry<RewardFactory> table("reward");
  return table;
}

}  // namespace

Params::Params(std::string reward_name, const nlohmann::json& params) : name_(std::move(reward_name)) {
  if (params.is_null()) {
    json_ = nlohmann::json::object();
  } else if (params.is_object()) {
    json_ = params;
  } else {
    throw Error("reward '" + name_ + "': params must be a mapping of name to value, got " + params.dump());
  }
}

std::optional<nlohmann::json> Params::raw(const std::string& key) {
  known_.push_back(key);
  if (!json_.contains(key)) return std::nullopt;
  return json_.at(key);
}

void Params::throw_type_error(const std::string& key) const {
  throw Error("reward '" + name_ + "': param '" + key + "' has the wrong type: " + json_.at(key).dump());
}

void Params::finish() const {
  for (const auto& item : json_.items()) {
    if (std::find(known_.begin(), known_.end(), item.key()) != known_.end()) continue;
    std::vector<std::string> valid = known_;
    std::sort(valid.begin(), valid.end());
    valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
    throw Error("reward '" + name_ + "': unknown param '" + item.key() + "'" + did_you_mean(item.key(), valid) +
                "; valid params: " + (valid.empty() ? std::string("(none)") : join(valid, ", ")));
  }
}

std::vector<RewardResult> Reward::score_batch(const std::vector<Sample>& samples) const {
  std::vector<RewardResult> out;
  out.reserve(samples.size());
  for (const auto& sample : samples) out.push_back(score(sample));
  return out;
}

void register_reward(const std::string& name, RewardFactory factory) { factories().add(name, std::move(factory)); }

void register_builtin_rewards() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_math_rewards();
    register_format_rewards();
    register_countdown_reward();
    register_code_reward();
    register_text_rewards();
    register_length_rewards();
    register_external_reward();
#ifdef GRPO_HAVE_HTTPLIB
    register_http_reward();
#endif
  });
}

std::vector<std::string> reward_names() {
  register_builtin_rewards();
  return factories().names();
}

std::unique_ptr<Reward> make_reward(const std::string& name, const nlohmann::json& params) {
  register_builtin_rewards();
  const RewardFactory& factory = factories().get(name);
  Params p(name, params);
  auto reward = factory(p);
  p.finish();
  return reward;
}

}  // namespace grpo::rewards
