// The rewards module's config sections: the `rewards:` list (each entry a RewardSpec: name,
// weight, params) and the `audit:` thresholds, described (the list entries; AuditSettings is
// described in audit.h) and validated here. The experiment config only composes them.
// Not here: scoring (reward_set.h), the audit itself (audit.h).
#pragma once

#include <string>
#include <vector>

#include "core/config/fields.h"
#include "core/error.h"
#include "rewards/audit.h"
#include "rewards/reward.h"
#include "rewards/reward_set.h"

namespace grpo::rewards {

inline void describe(config::Fields& f, RewardSpec& s) {
  f.field("name", s.name, "", "Registered reward name (see `grpo reward --list`).");
  f.field("alias", s.alias, "",
          "Name this entry's values are reported under (metrics reward/<alias>, records, --reward); empty = "
          "name. Lets a set hold one reward twice, e.g. two external workers.");
  f.field("weight", s.weight, 1.0, "Weight of this reward in the total.");
  f.field("params", s.params, nlohmann::json::object(), "The reward's own parameters (checked by the reward).");
}

// Every problem of the `rewards:` list, one message each naming its entry ('rewards[1]'): an
// unknown name, parameters its reward refuses, or a reported name (alias or name) used twice.
// Empty = valid.
inline std::vector<std::string> validate(const std::vector<RewardSpec>& specs) {
  std::vector<std::string> problems;
  for (size_t i = 0; i < specs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (specs[j].reported_name() == specs[i].reported_name()) {
        problems.push_back("'rewards[" + std::to_string(i) + "]': '" + specs[i].reported_name() +
                           "' is already the name of rewards[" + std::to_string(j) +
                           "]; give one of them a different `alias`");
        break;
      }
    }
    try {
      make_reward(specs[i].name, specs[i].params);
    } catch (const Error& e) {
      problems.push_back("'rewards[" + std::to_string(i) + "]': " + e.message());
    }
  }
  return problems;
}

// Every problem of the `audit:` section: thresholds are fractions, so none may be negative.
inline std::vector<std::string> validate(const AuditSettings& settings) {
  std::vector<std::string> problems;
  for (const auto& [metric, threshold] : audit_thresholds(settings))
    if (threshold < 0) problems.push_back("'audit." + metric.substr(6) + "' must be >= 0 (a fraction; 1 = never warn)");
  return problems;
}

}  // namespace grpo::rewards
