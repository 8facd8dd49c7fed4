// Building the rollout engine of a policy; see engine_factory.h.
#include "policy/engine_factory.h"

#include <algorithm>

namespace grpo::policy {

int64_t longest_prompt(const PolicyBundle& policy, const std::vector<const std::vector<datasets::Record>*>& record_sets) {
  int64_t longest = 0;
  for (const auto* records : record_sets)
    for (const auto& r : *records) longest = std::max<int64_t>(longest, policy.encode_prompt(r).size());
  return longest;
}

std::unique_ptr<rollout::RolloutEngine> make_engine(const PolicyBundle& policy, const rollout::RolloutSettings& settings,
                                                    int64_t longest_prompt, int64_t min_slots) {
  rollout::EngineOptions eo;
  eo.slots = std::max(settings.max_batch_sequences, min_slots);
  eo.max_len = longest_prompt + settings.max_new_tokens;
  eo.cuda_graphs = settings.cuda_graphs;
  eo.decode = [&policy](const std::vector<int64_t>& ids) { return policy.decode(ids); };
  return std::make_unique<rollout::RolloutEngine>(policy.model, eo);
}

}  // namespace grpo::policy
