// The one way every stage and command builds a rollout engine for a policy: slots and cache
// length from the `rollout:` settings and the longest prompt, CUDA graphs as configured, stop
// strings decoded with the policy's tokenizer. The engine runs the policy's own tensors
// (colocated with the learner) unless asked for its own copy; the policy must outlive it.
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

// The engine's slots: settings.max_batch_sequences, never fewer than `min_slots` (the largest
// number of samples of one request: a group must fit at once), and with
// settings.cache_memory_gb > 0 no more than fit that many GiB, a slot holding max_len + 1
// cache rows (one is the padding scratch row) of `cache_bytes_per_token` each. A budget that
// holds fewer than `min_slots` sequences is a grpo::Error naming the key and both sizes.
int64_t engine_slots(const rollout::RolloutSettings& settings, int64_t cache_bytes_per_token, int64_t max_len,
                     int64_t min_slots);

// An engine over policy.model for prompts of up to `longest_prompt` tokens plus
// settings.max_new_tokens, with engine_slots() slots; its cache takes the policy's dtype.
// own_copy: the engine runs its own copy of the policy (EngineOptions::own_copy), which a LoRA
// run's merged rollout (policy.lora.rollout) refreshes after each update.
std::unique_ptr<rollout::RolloutEngine> make_engine(const PolicyBundle& policy, const rollout::RolloutSettings& settings,
                                                    int64_t longest_prompt, int64_t min_slots = 1, bool own_copy = false);

}  // namespace grpo::policy
