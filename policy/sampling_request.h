// The one way a rollout request is built from the `rollout:` settings: the prompt, its number of
// samples, the completion cap, temperature/top_k/top_p/min_p, the stop strings, and the policy's
// end-of-sequence ids when rollout.stop_at_eos. Used by GRPO rollouts, on-policy distillation,
// teacher sampling for distillation data, evaluation and `grpo generate`, so a new sampling key
// reaches all of them at once.
// Not here: engine construction (policy/engine_factory.h), greedy evaluation's temperature
// (policy/evaluation.h chooses it before calling this).
#pragma once

#include <cstdint>
#include <vector>

#include "policy/policy_bundle.h"
#include "rollout/generation.h"

namespace grpo::policy {

// `samples` completions of `prompt_ids` sampled as `rollout` says, stopping at policy's
// stop ids when rollout.stop_at_eos.
rollout::GenerationRequest sampling_request(const rollout::RolloutSettings& rollout, const PolicyBundle& policy,
                                            std::vector<int64_t> prompt_ids, int64_t samples);

}  // namespace grpo::policy
