// What differs between the resolved configs of several runs: the stored YAML flattened to
// dotted keys ("rl.group_size", "rewards[1].weight"; a list of plain values stays one key,
// "[a, b]"), and the keys whose value is not the same in every run. Pure; the comparison page
// renders the result. It does not know config defaults: a key missing from one run's config
// (written by an older grpo) shows as absent, not as its default.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grpo::report {

// Dotted key -> value text. "" gives an empty map; text that is not YAML throws grpo::Error
// naming `source` (the run's database).
std::map<std::string, std::string> flatten_config(const std::string& yaml_text, const std::string& source);

struct ConfigDifference {
  std::string key;
  std::vector<std::optional<std::string>> values;  // one per run; nullopt = absent in that run
};

// The keys (sorted) whose values are not equal across `configs`.
std::vector<ConfigDifference> config_differences(const std::vector<std::map<std::string, std::string>>& configs);

}  // namespace grpo::report
