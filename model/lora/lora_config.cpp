// Checks of the `policy.lora:` section that do not need the model; see lora_config.h.
#include "model/lora/lora_config.h"

#include <set>

namespace grpo::model {

std::vector<std::string> validate(const LoraSettings& s) {
  std::vector<std::string> problems;
  if (s.rollout != "merged" && s.rollout != "adapters")
    problems.push_back("policy.lora.rollout must be merged or adapters, got '" + s.rollout + "'");
  if (!s.enabled()) return problems;
  if (s.rank < 1) problems.push_back("policy.lora.rank must be >= 1, got " + std::to_string(s.rank));
  if (!(s.alpha > 0)) problems.push_back("policy.lora.alpha must be > 0");
  if (!(s.dropout >= 0 && s.dropout < 1)) problems.push_back("policy.lora.dropout must be in [0, 1)");
  if (s.init != "default" && s.init != "gaussian")
    problems.push_back("policy.lora.init must be default or gaussian, got '" + s.init + "'");
  std::set<std::string> seen;
  for (const auto& t : s.targets)
    if (!seen.insert(t).second) problems.push_back("policy.lora.targets names '" + t + "' twice");
  return problems;
}

}  // namespace grpo::model
