// The rollout engine: turns requests (a prompt, sampled n times) into completions with the
// log-prob of every sampled token, with continuous batching over a fixed set of cache slots.
//
//  - Each prompt is prefilled once; its cache rows are copied to the other n-1 slots of its
//    group, and all n samples draw their first token from the same prefill logits.
//  - Running sequences always occupy slots [0, B): a finished sequence frees its slot at once and
//    the last running one moves into the hole, so every decode step is one batch [B, 1] whose
//    cache is a view, never a gather. Waiting requests are admitted (prefilled) into the free
//    tail as soon as a whole group fits.
//  - Decode keeps its state on the device (each slot's next input token and cache length) and
//    brings back only the sampled tokens and their log-probs, once per step. The host enqueues
//    step k before it collects step k - 1's tokens, so its work (appending tokens, stop checks,
//    launching the step's graph) overlaps the device's; a sequence that stopped at step k - 1
//    computes one discarded token at step k.
//  - The cache (slots x max_len) is allocated once, when the engine is built.
//  - On CUDA, decode steps replay CUDA graphs per batch-size bucket (bucket_graphs.h); MoE layers
//    decode every expert densely (moe_decode.h) or through the module's grouped GEMM, both
//    host-free so that the step can be captured. Prefills replay graphs too, per (prompts, padded
//    length) bucket, where the MoE layers' grouped GEMM is host-free (bf16); their inputs reach
//    the device in one copy. Bucket padding can make a prefill up to about twice
//    max_prefill_tokens.
//  - With options.dtype different from the policy's (or options.own_copy), the engine runs its own
//    copy of the policy in that dtype (e.g. bf16 beside fp32 masters), refreshed in place by
//    refresh_weights().
//  - After record_routes(), every MoE layer writes its tokens' experts into one device
//    buffer [MoE layers, slots x max_len, top_k] int16 (captured graphs included); prefill rows
//    and each decode step's rows come back to the host with the step's tokens (one copy), and
//    each completion carries its sequence's routes (TokenRoutes).
//  - A caller may be told of each group as soon as its last sample finishes (GroupDoneFn), to
//    score it while the rest decode.
// Determinism: given the same requests, seed, device and slot count, the same completions.
// Not here: rewards, tokenization of prompts (callers pass ids).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>

#include "model/arch/cached_forward.h"
#include "model/arch/transformer.h"
#include "model/cache/cache.h"
#include "rollout/bucket_graphs.h"
#include "rollout/generation.h"
#include "rollout/stop_matcher.h"

namespace grpo::rollout {

struct EngineOptions {
  int64_t slots = 64;          // sequences decoded at once
  int64_t max_len = 1024;      // prompt + completion tokens per slot
  int64_t max_prefill_tokens = 8192;  // bounds one prefill batch (rows x padded length)
  DecodeFn decode;             // for stop strings; may be empty when no request uses them
  // The dtype the engine computes in; unset or equal to the policy's = use the policy itself.
  std::optional<torch::Dtype> dtype;
  // Run a copy of the policy even in the policy's own dtype (e.g. to receive LoRA adapters merged
  // into its weights, model/lora/merge.h, instead of applying them in the decode path).
  bool own_copy = false;
  bool cuda_graphs = true;     // CUDA devices only; CPU decode is always eager
  // CUDA: MoE layers decode every expert on every token (moe_decode.h) rather than only the
  // routed ones through a grouped GEMM. CPU always takes the module's path.
  bool dense_moe = true;
};

// Called after each decode step with the number of tokens generated so far in this call.
using ProgressFn = std::function<void(int64_t generated_tokens)>;
// Called once per request, on the generating thread, as soon as all n samples of request
// `request` have finished (in order of finishing, before generate() returns), so that a caller
// can score a group while the others still decode. It should hand the work off and return.
using GroupDoneFn = std::function<void(size_t request, const std::vector<Completion>& completions)>;

class RolloutEngine {
 public:
  // `policy` is used as is (colocated with the learner: same tensors) unless options.dtype asks
  // for another dtype or options.own_copy for a copy; the engine's device is the policy's, the
  // cache takes the engine's dtype.
  RolloutEngine(model::CausalLM policy, EngineOptions options);
  ~RolloutEngine();

  GenerationResult generate(const std::vector<GenerationRequest>& requests, uint64_t seed,
                            const ProgressFn& progress = nullptr, const GroupDoneFn& group_done = nullptr);

  // Copies `learner`'s weights into the engine's model in place (no reallocation: CUDA graphs
  // stay valid); nothing to do when the engine runs the learner's own tensors. Call it after
  // every optimizer update. `learner` must have the engine's config; dtypes may differ.
  void refresh_weights(model::CausalLM& learner);

  // From now on, record each token's experts in every MoE layer (Completion::routes), for
  // routing replay and the rollout's router health; nothing for a model without MoE layers.
  // Call it before the first generate(): CUDA graphs captured earlier would not write them.
  void record_routes();

  const EngineOptions& options() const { return options_; }
  model::CausalLM& policy() { return model_; }  // the model the engine runs
  int64_t cache_bytes() const;
  // CUDA graphs captured so far (0 on CPU or with graphs off).
  struct GraphCounts {
    size_t decode = 0, prefill = 0;
  };
  GraphCounts graph_counts() const;

 private:
  struct Slot;
  struct Waiting;
  struct InFlightStep;
  void admit(std::vector<Waiting>& waiting, GenerationResult& result, at::Generator& gen);
  // Whether some running sequence may still need a token that no enqueued step will give it.
  bool needs_decode_step() const;
  // Runs a decode step for slots [0, active_) and samples it, leaving its tokens on their way to
  // the host in in_flight_.
  void enqueue_decode_step(at::Generator& gen);
  // Waits for the oldest enqueued step's tokens, appends them to the sequences still running and
  // frees the slots of those that finished.
  void collect_oldest_step(GenerationResult& result);
  // Runs the model for slots [0, active_) and leaves their logits in logits_.
  void run_decode(int64_t key_len);
  // Runs the prefill staged in prefill_inputs_ as (rows, len) and leaves each row's last hidden
  // state in prefill_hidden_.
  void run_prefill(int64_t rows, int64_t len);
  bool prefill_graphed() const;
  // Appends a sampled token to the slot's completion; on a stop token, a stop string or
  // max_new_tokens moves the completion into `result` and returns true.
  bool append_token(Slot& slot, int64_t token, float logprob, GenerationResult& result);
  // Each prefilled prompt's routes, read from routes_ after a prefill of padded_rows x len whose
  // row i holds prompt_lengths[i] tokens (one copy to the host).
  std::vector<TokenRoutes> prompt_routes(int64_t padded_rows, int64_t len,
                                         const std::vector<int64_t>& prompt_lengths) const;
  // Frees the finished slots (ascending) and moves running sequences from the tail into the holes.
  void release(const std::vector<int64_t>& finished);

  model::CausalLM model_;
  bool owns_model_ = false;  // model_ is the engine's copy in options_.dtype
  EngineOptions options_;
  torch::Device device_;
  std::unique_ptr<model::InferenceCache> cache_;
  std::unique_ptr<model::CachedForward> forward_;
#ifdef GRPO_WITH_CUDA
  std::unique_ptr<BucketGraphs> decode_graphs_, prefill_graphs_;
#endif
  // Device-side decode state, per slot: the next input token and the cache length; and the
  // decode output [slots, vocab] in the engine's dtype.
  torch::Tensor tokens_, lengths_, logits_;
  // The prefill's inputs (PrefillInputs, flat int64, room for slots x max_len tokens) and its
  // output, each row's last hidden state [slots, hidden], in the engine's dtype.
  torch::Tensor prefill_inputs_, prefill_hidden_;
  // After record_routes() on a MoE model: [MoE layers, slots x max_len, top_k] int16, each
  // layer's slice given to it (MoeFeedForward::record_routes_into); undefined otherwise.
  torch::Tensor routes_;
  // State of the generate() call in progress.
  const std::vector<GenerationRequest>* requests_ = nullptr;
  std::vector<std::unique_ptr<StopStringMatcher>> matchers_;  // one per request
  std::vector<int64_t> samples_left_;                         // per request: samples still running
  std::vector<size_t> groups_done_;                           // finished since the last GroupDoneFn calls
  std::vector<Slot> slots_;
  int64_t active_ = 0;  // slots [0, active_) hold running sequences
  int64_t next_id_ = 0;  // the id of the next admitted sequence
  std::vector<InFlightStep> in_flight_;  // enqueued decode steps, oldest first (at most two)
  std::unique_ptr<SamplingBatch> sampling_;  // of slots [0, active_); null after a change
};

}  // namespace grpo::rollout
