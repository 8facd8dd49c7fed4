// What the rollout engine is asked for and what it returns. A request is one prompt sampled
// n times (the GRPO group); every sample shares the prompt's prefilled cache. Also the
// `rollout:` config section (RolloutSettings), described and validated here; policy/
// engine_factory.h turns it into an engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"
#include "rollout/sampler.h"

namespace grpo::rollout {

// Sampling settings of a run (the `rollout:` config section).
struct RolloutSettings {
  int64_t max_new_tokens = 0;
  double temperature = 1.0;
  double top_p = 1.0;
  int64_t top_k = 0;
  double min_p = 0.0;
  std::vector<std::string> stop_strings;
  bool stop_at_eos = true;
  int64_t max_batch_sequences = 0;
  double cache_memory_gb = 0.0;
  bool cuda_graphs = true;
};

inline void describe(config::Fields& f, RolloutSettings& s) {
  f.field("max_new_tokens", s.max_new_tokens, 256, "Completion length cap (tokens); longer completions are truncated.");
  f.field("temperature", s.temperature, 1.0,
          "Sampling temperature; 0 = greedy. The learner divides logits by the same value. Evaluation with one sample "
          "per prompt (train.eval_samples, `grpo eval --k`) is greedy; more samples are drawn at this temperature.");
  f.field("top_p", s.top_p, 1.0, "Nucleus sampling mass; 1 = off.");
  f.field("top_k", s.top_k, 0, "Keep the k most likely tokens; 0 = off.");
  f.field("min_p", s.min_p, 0.0, "Drop tokens below min_p times the most likely token's probability; 0 = off.");
  f.field("stop_strings", s.stop_strings, std::vector<std::string>{},
          "Stop a completion once its text contains one of these (the stop string is kept).");
  f.field("stop_at_eos", s.stop_at_eos, true, "Stop at the tokenizer's end-of-sequence token(s).");
  f.field("max_batch_sequences", s.max_batch_sequences, 256,
          "Sequences decoded at once (continuous batching slots); also bounds the cache size.");
  f.field("cache_memory_gb", s.cache_memory_gb, 0.0,
          "KV/latent cache budget in GiB: fewer slots than max_batch_sequences when that many sequences of (longest "
          "prompt + max_new_tokens) tokens would not fit; 0 = no bound (max_batch_sequences slots).");
  f.field("cuda_graphs", s.cuda_graphs, true, "Capture decode steps as CUDA graphs per batch-size bucket (GPU only).");
}

// Every problem of the section, one message each naming its key ('rollout.top_p'); empty = valid.
inline std::vector<std::string> validate(const RolloutSettings& s) {
  std::vector<std::string> problems;
  if (s.max_new_tokens < 1) problems.push_back("'rollout.max_new_tokens' must be >= 1");
  if (s.temperature < 0) problems.push_back("'rollout.temperature' must be >= 0");
  if (s.top_p <= 0 || s.top_p > 1) problems.push_back("'rollout.top_p' must be in (0, 1]");
  if (s.top_k < 0) problems.push_back("'rollout.top_k' must be >= 0 (0 = off)");
  if (s.min_p < 0 || s.min_p > 1) problems.push_back("'rollout.min_p' must be in [0, 1] (0 = off)");
  if (s.max_batch_sequences < 1) problems.push_back("'rollout.max_batch_sequences' must be >= 1");
  if (s.cache_memory_gb < 0) problems.push_back("'rollout.cache_memory_gb' must be >= 0 (0 = no bound)");
  return problems;
}

struct GenerationRequest {
  std::vector<int64_t> prompt_ids;
  int64_t n = 1;                        // samples of this prompt
  int64_t max_new_tokens = 256;
  RowSampling sampling;
  std::vector<int64_t> stop_token_ids;  // e.g. EOS; the stop token is kept in the completion
  std::vector<std::string> stop_strings;
};

enum class FinishReason { kStop, kLength };
inline const char* finish_reason_name(FinishReason r) { return r == FinishReason::kStop ? "stop" : "length"; }

// The experts each token of a sequence was routed to in the rollout's MoE layers (routing
// replay): expert_ids [tokens, layers, top_k] row-major, layers = the model's MoE layers in
// order. The tokens are the prompt's, then the completion's but its last, which no forward of
// the rollout reads (the learner routes that one itself: its output predicts nothing).
struct TokenRoutes {
  int64_t layers = 0, top_k = 0;
  std::vector<int16_t> expert_ids;
  int64_t tokens() const { return layers * top_k == 0 ? 0 : static_cast<int64_t>(expert_ids.size()) / (layers * top_k); }
};

struct Completion {
  std::vector<int64_t> token_ids;
  std::vector<float> logprobs;  // one per token: log softmax(logits / T) of the sampled token
  FinishReason finish_reason = FinishReason::kLength;
  TokenRoutes routes;  // empty unless the engine records routes (RolloutEngine::record_routes)
};

struct GenerationStats {
  int64_t prompt_tokens = 0, generated_tokens = 0;
  int64_t decode_steps = 0;  // batched decode forwards (each row's first token comes from prefill)
  double prefill_seconds = 0, decode_seconds = 0;
};

struct GenerationResult {
  // results[r][s]: request r, sample s.
  std::vector<std::vector<Completion>> completions;
  GenerationStats stats;
};

}  // namespace grpo::rollout
