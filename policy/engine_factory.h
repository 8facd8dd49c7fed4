// The one way every stage and command builds a rollout engine for a policy: slots and cache
// length from the `rollout:` settings and the longest prompt, CUDA graphs as configured, stop
// strings decoded with the policy's tokenizer. The engine runs the policy's own tensors
// (colocated with the learner), so the policy must outlive it.
// Not here: the engine itself (rollout/engine.h), sampling settings per request.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "datasets/record.h"
#include "policy/policy_bundle.h"
#include "rollout/engine.h"
#include "rollout/generation.h"

namespace grpo::policy {

// The longest prompt of `record_sets`, in tokens, as `policy` encodes it.
int64_t longest_prompt(const PolicyBundle& policy, const std::vector<const std::vector<datasets::Record>*>& record_sets);

// An engine over policy.model for prompts of up to `longest_prompt` tokens plus
// settings.max_new_tokens, with settings.max_batch_sequences slots but never fewer than
// `min_slots` (the largest number of samples of one request: a group must fit at once).
std::unique_ptr<rollout::RolloutEngine> make_engine(const PolicyBundle& policy, const rollout::RolloutSettings& settings,
                                                    int64_t longest_prompt, int64_t min_slots = 1);

}  // namespace grpo::policy
