// A rollout request from the `rollout:` settings; see sampling_request.h.
#include "policy/sampling_request.h"

#include <utility>

namespace grpo::policy {

rollout::GenerationRequest sampling_request(const rollout::RolloutSettings& rollout, const PolicyBundle& policy,
                                            std::vector<int64_t> prompt_ids, int64_t samples) {
  rollout::GenerationRequest q;
  q.prompt_ids = std::move(prompt_ids);
  q.n = samples;
  q.max_new_tokens = rollout.max_new_tokens;
  q.sampling = {rollout.temperature, rollout.top_k, rollout.top_p, rollout.min_p};
  if (rollout.stop_at_eos) q.stop_token_ids = policy.stop_token_ids;
  q.stop_strings = rollout.stop_strings;
  return q;
}

}  // namespace grpo::policy
