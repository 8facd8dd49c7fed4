// Reads a reward set from YAML for `grpo reward --config FILE`: the `rewards:` list as the run
// config describes it (rewards/reward_settings.h: name, weight with default 1, params a map),
// read by the shared config loader (core/config) so errors name file:line:column and the key,
// then checked by the section's validate(). Other top-level sections (maps) are taken as opaque
// and not checked, so FILE can be a full run config or a file with only `rewards:`.
#pragma once

#include <string>
#include <vector>

#include "rewards/reward_set.h"

namespace grpo::rewards {

// The file's `rewards:` list; a missing list, a malformed entry, an unknown reward or parameters
// a reward refuses is a grpo::Error naming the file (and line and column where it has one).
std::vector<RewardSpec> load_reward_specs(const std::string& path);

}  // namespace grpo::rewards
