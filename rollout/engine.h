// The rollout engine: turns requests (a prompt, sampled n times) into completions with the
// log-prob of every sampled token, with continuous batching over a fixed set of cache slots.
//
//  - Each prompt is prefilled once; its cache rows are copied to the other n-1 slots of its
//    group, and all n samples draw their first token from the same prefill logits.
//  - Every decode step runs all active sequences as one batch [B, 1]; a finished sequence frees
//    its slot at once, and waiting requests are admitted (prefilled) as soon as a whole group fits.
//  - The cache (slots x max_len) is allocated once, when the engine is built.
// Determinism: given the same requests, seed, device and slot count, the same completions.
// Not here: rewards, tokenization of prompts (callers pass ids), CUDA graphs for CPU builds.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "model/cache.h"
#include "model/transformer.h"
#include "rollout/generation.h"
#include "rollout/stop_matcher.h"

namespace grpo::rollout {

struct EngineOptions {
  int64_t slots = 64;          // sequences decoded at once
  int64_t max_len = 1024;      // prompt + completion tokens per slot
  int64_t max_prefill_tokens = 8192;  // bounds one prefill batch (rows x padded length)
  DecodeFn decode;             // for stop strings; may be empty when no request uses them
};

// Called after each decode step with the number of tokens generated so far in this call.
using ProgressFn = std::function<void(int64_t generated_tokens)>;

class RolloutEngine {
 public:
  // `policy` is used as is (colocated with the learner: same tensors). Its device and dtype are
  // the engine's; the cache takes the policy's parameter dtype.
  RolloutEngine(model::CausalLM policy, EngineOptions options);

  GenerationResult generate(const std::vector<GenerationRequest>& requests, uint64_t seed,
                            const ProgressFn& progress = nullptr);

  const EngineOptions& options() const { return options_; }
  model::CausalLM& policy() { return policy_; }
  int64_t cache_bytes() const;

 private:
  struct Slot;
  struct Waiting;
  void admit(std::vector<Waiting>& waiting, std::vector<Slot>& slots, GenerationResult& result,
             at::Generator& gen);
  void decode_step(std::vector<Slot>& slots, GenerationResult& result, at::Generator& gen);
  // Appends a sampled token to the slot's completion; finishes the sequence on a stop token, a
  // stop string or max_new_tokens, moving it into `result` and freeing the slot.
  void append_token(int64_t slot_index, Slot& slot, int64_t token, float logprob, GenerationResult& result);

  model::CausalLM policy_;
  EngineOptions options_;
  torch::Device device_;
  std::unique_ptr<model::InferenceCache> cache_;
  // State of the generate() call in progress.
  const std::vector<GenerationRequest>* requests_ = nullptr;
  std::vector<std::unique_ptr<StopStringMatcher>> matchers_;  // one per request
};

}  // namespace grpo::rollout
