// Reads a reward set from YAML for `grpo reward --config FILE`: the top-level key `rewards:`
// is a list of {name, weight (default 1), params (mapping, default empty)}; params are
// converted to JSON for the registry. Other top-level keys are ignored so the file can be a
// full run config. The run config itself binds the same list through core/config; this
// loader exists so the reward command works without it.
#pragma once

#include <string>
#include <vector>

#include "rewards/reward_set.h"

namespace grpo::rewards {

// Throws grpo::Error naming the file and line of anything malformed.
std::vector<RewardSpec> load_reward_specs(const std::string& path);

}  // namespace grpo::rewards
