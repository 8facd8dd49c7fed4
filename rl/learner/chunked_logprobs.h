// Log-probabilities of given tokens, and the entropy of each next-token distribution, from the
// model's final hidden states and the lm_head weight, without ever holding [N·T, V] float32
// logits for the batch. Rows (token positions) are processed in chunks of `chunk_rows`: each
// chunk's logits are made, reduced to two numbers per row, and dropped. A custom autograd
// function recomputes each chunk's logits in the backward pass, so the backward is chunked too
// and memory stays O(chunk_rows · V) beyond the inputs. Logits are divided by the sampling
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
};

struct TokenLogProbs {
  torch::Tensor logprobs;  // [N, T] float32: log softmax(h·Wᵀ/τ)[token]; 0 where mask == 0
  torch::Tensor entropy;   // [N, T] float32: entropy of softmax(h·Wᵀ/τ); 0 where mask == 0
};

// hidden: [N, T, H] float (the state at position t predicts tokens[n, t]; the caller shifts);
// lm_head: [V, H] same dtype; tokens: [N, T] int64 in [0, V); mask: [N, T] bool or float 0/1, or
// undefined for all positions. Only positions with mask != 0 are computed. Both outputs are
// differentiable with respect to hidden and lm_head.
TokenLogProbs chunked_token_logprobs(const torch::Tensor& hidden, const torch::Tensor& lm_head,
                                     const torch::Tensor& tokens, const torch::Tensor& mask,
                                     const TokenLogProbOptions& options);

// The same function computed the plain way, with full [N·T, V] float32 logits and autograd.
// The reference for tests and the baseline for the benchmark; not for training.
TokenLogProbs full_logits_token_logprobs(const torch::Tensor& hidden, const torch::Tensor& lm_head,
                                         const torch::Tensor& tokens, const torch::Tensor& mask,
                                         double temperature);

}  // namespace grpo::rl
