// Building the rollout engine of a policy; see engine_factory.h.
#include "policy/engine_factory.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/strings.h"
#include "model/cache/cache.h"

namespace grpo::policy {

int64_t longest_prompt(const PolicyBundle& policy, const std::vector<const std::vector<datasets::Record>*>& record_sets) {
  int64_t longest = 0;
  for (const auto* records : record_sets)
    for (const auto& r : *records) longest = std::max<int64_t>(longest, policy.encode_prompt(r).size());
  return longest;
}

int64_t engine_slots(const rollout::RolloutSettings& settings, int64_t cache_bytes_per_token, int64_t max_len,
                     int64_t min_slots) {
  const int64_t wanted = std::max(settings.max_batch_sequences, min_slots);
  if (settings.cache_memory_gb <= 0) return wanted;
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  const double budget = settings.cache_memory_gb * kGiB;
  const double per_sequence = static_cast<double>(cache_bytes_per_token) * static_cast<double>(max_len + 1);
  const auto fitting = static_cast<int64_t>(std::floor(budget / per_sequence));
  if (fitting < min_slots)
    throw Error(strformat("'rollout.cache_memory_gb' is %g GiB, but %lld sequence(s) of %lld tokens need %.6g GiB "
                          "(%lld cache bytes per token)",
                          settings.cache_memory_gb, static_cast<long long>(min_slots), static_cast<long long>(max_len),
                          per_sequence * static_cast<double>(min_slots) / kGiB,
                          static_cast<long long>(cache_bytes_per_token)));
  return std::min(wanted, fitting);
}

std::unique_ptr<rollout::RolloutEngine> make_engine(const PolicyBundle& policy, const rollout::RolloutSettings& settings,
                                                    int64_t longest_prompt, int64_t min_slots, bool own_copy) {
  rollout::EngineOptions eo;
  eo.own_copy = own_copy;
  eo.max_len = longest_prompt + settings.max_new_tokens;
  model::CausalLM model = policy.model;  // a handle to the same module (output_weight() is not const)
  const int64_t bytes_per_token =
      model::InferenceCache::bytes_per_token(model->config(), model->output_weight().scalar_type());
  eo.slots = engine_slots(settings, bytes_per_token, eo.max_len, min_slots);
  eo.cuda_graphs = settings.cuda_graphs;
  eo.decode = [&policy](const std::vector<int64_t>& ids) { return policy.decode(ids); };
  return std::make_unique<rollout::RolloutEngine>(model, eo);
}

}  // namespace grpo::policy
