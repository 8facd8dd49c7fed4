// YAML reward-set loader; see reward_config.h.
#include "rewards/reward_config.h"

#include <yaml-cpp/yaml.h>

#include "core/config/config_io.h"
#include "core/error.h"
#include "core/strings.h"
#include "rewards/reward_settings.h"

namespace grpo::rewards {
namespace {

// The file as the loader sees it: the `rewards:` list, and every other top-level section (a map)
// of the document as a free-form one, so a full run config loads without this module knowing
// its other sections.
struct RewardsFile {
  std::vector<RewardSpec> rewards;
  std::vector<std::string> other_keys;
  std::vector<nlohmann::json> other_sections;
};

void describe(config::Fields& f, RewardsFile& s) {
  f.list("rewards", s.rewards, {}, "Rewards of the set: name, weight, params.");
  s.other_sections.resize(s.other_keys.size());
  for (size_t i = 0; i < s.other_keys.size(); ++i)
    f.field(s.other_keys[i], s.other_sections[i], nlohmann::json::object(), "Another section of a run config; not read.");
}

// The document's top-level keys other than `rewards` whose values are maps (a run config's
// sections). Any other key stays undeclared, so the loader reports it as unknown with the
// closest valid key (a misspelled `reward:` list points at `rewards`); a document the loader
// rejects (not a map, malformed) gives none and the loader reports it.
std::vector<std::string> other_top_level_keys(const std::string& text) {
  std::vector<std::string> keys;
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return keys;
    for (const auto& kv : root)
      if (kv.first.IsScalar() && kv.first.Scalar() != "rewards" && kv.second.IsMap()) keys.push_back(kv.first.Scalar());
  } catch (const YAML::Exception&) {
  }
  return keys;
}

}  // namespace

std::vector<RewardSpec> load_reward_specs(const std::string& path) {
  const std::string text = config::read_text_file(path);
  RewardsFile file;
  file.other_keys = other_top_level_keys(text);
  config::load_yaml([&file](config::Fields& f) { describe(f, file); }, text, path, {});
  std::vector<std::string> problems = validate(file.rewards);
  if (file.rewards.empty()) problems.insert(problems.begin(), "'rewards' must list at least one reward {name, weight, params}");
  if (!problems.empty()) {
    for (auto& p : problems) p = path + ": " + p;
    throw Error(join(problems, "\n"));
  }
  return file.rewards;
}

}  // namespace grpo::rewards
