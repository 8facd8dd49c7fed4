// Log-probabilities of given tokens, and the entropy of each next-token distribution, from the
// model's final hidden states and the lm_head weight, without ever holding [N·T, V] float32
// logits for the batch. Rows (token positions) are processed in chunks of `chunk_rows`: each
// chunk's logits are reduced to two numbers per row. When a backward will follow and the logits
// in the inputs' dtype fit in `keep_logits_bytes`, they are made by one GEMM and kept: the
// backward overwrites them with their gradient and makes both input gradients with one GEMM
// each. Otherwise each chunk's logits are dropped after the forward and recomputed in the
// backward, chunk by chunk, so memory stays O(chunk_rows · V) beyond the inputs at the price of
// one more [rows, V] GEMM. Logits are divided by the sampling
// temperature before the log-softmax, so the learner scores tokens under the distribution the
// rollout sampled from. Matmuls run in the inputs' dtype (bf16 on GPU); the softmax, log-probs,
// entropy and the logit gradient run in float32. Not here: the model forward that produces the
// hidden states, vocabulary-parallel (sharded) lm_heads, top-k/top-p truncation of the sampler.
#pragma once

#include <torch/torch.h>

namespace grpo::rl {

struct TokenLogProbOptions {
  double temperature = 1.0;   // > 0; the rollout's sampling temperature
  int64_t chunk_rows = 1024;  // positions per chunk; memory ≈ 3 · chunk_rows · V · 4 bytes
  // Keep the logits for the backward when they take at most this many bytes (rows · V · the
  // inputs' element size; 2.5 GB for 8k positions of a 152k vocabulary in bf16). 0: recompute.
  int64_t keep_logits_bytes = int64_t{4} << 30;
};

struct TokenLogProbs {
  torch::Tensor logprobs;  // [N, T] float32: log softmax(h·Wᵀ/τ)[token]; 0 where mask == 0
  torch::Tensor entropy;   // [N, T] float32: entropy of softmax(h·Wᵀ/τ); 0 where mask == 0
};

// hidden: [N, T, H] float (the state at position t predicts tokens[n, t]; the caller shifts);
// lm_head: [V, H] same dtype; tokens: [N, T] int64 in [0, V); mask: [N, T] bool or float 0/1, or
// undefined for all positions. Only positions with mask != 0 are computed. Both outputs are
// differentiable with respect to hidden and lm_head; lm_head's gradient is added into its
// gradient buffer directly when it has one (core/torch/gradient_in_place.h).
TokenLogProbs chunked_token_logprobs(const torch::Tensor& hidden, const torch::Tensor& lm_head,
                                     const torch::Tensor& tokens, const torch::Tensor& mask,
                                     const TokenLogProbOptions& options);

// The same function computed the plain way, with full [N·T, V] float32 logits and autograd.
// The reference for tests and the baseline for the benchmark; not for training.
TokenLogProbs full_logits_token_logprobs(const torch::Tensor& hidden, const torch::Tensor& lm_head,
                                         const torch::Tensor& tokens, const torch::Tensor& mask,
                                         double temperature);

}  // namespace grpo::rl
