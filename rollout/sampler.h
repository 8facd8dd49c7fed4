// Next-token sampling for a batch of rows, each with its own temperature, top-k, top-p and
// min-p. Pure function of logits and a generator; knows nothing about models or caches.
//
// Log-probs returned: log softmax(logits / T) of the chosen token over the FULL vocabulary,
// i.e. after temperature and before top-k/top-p/min-p filtering. That is the distribution the
// GRPO learner evaluates (it divides by the same T and never filters), so the rollout-vs-learner
// mismatch metric and the truncated importance-sampling correction compare like with like.
// Greedy rows (T = 0) report log softmax(logits) of the argmax.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace grpo::rollout {

struct RowSampling {
  double temperature = 1.0;  // 0 = greedy
  int64_t top_k = 0;         // 0 = off
  double top_p = 1.0;        // 1 = off
  double min_p = 0.0;        // 0 = off
};

// Per-row parameters as device tensors, built once per batch composition.
struct SamplingBatch {
  torch::Tensor temperature;  // [B] float32; greedy rows hold 1 (their logits are not scaled)
  torch::Tensor greedy;       // [B] bool
  torch::Tensor top_k;        // [B] int64, 0 = off
  torch::Tensor top_p;        // [B] float32
  torch::Tensor min_p;        // [B] float32
  bool any_greedy = false, all_greedy = false, any_top_k = false, any_top_p = false, any_min_p = false;
};

SamplingBatch make_sampling_batch(const std::vector<RowSampling>& rows, const torch::Device& device);

struct SampledTokens {
  torch::Tensor tokens;    // [B] int64
  torch::Tensor logprobs;  // [B] float32, see the file comment
};

// logits: [B, V] any float dtype (computed in float32). generator: CPU or CUDA, matching logits.
SampledTokens sample_next_tokens(const torch::Tensor& logits, const SamplingBatch& batch,
                                 at::Generator& generator);

// The filtered, renormalized sampling distribution [B, V] float32 that sample_next_tokens draws
// from (greedy rows: one-hot at the argmax). Exposed for the statistical tests.
torch::Tensor sampling_distribution(const torch::Tensor& logits, const SamplingBatch& batch);

}  // namespace grpo::rollout
