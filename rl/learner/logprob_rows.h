// The LibTorch side of the log-prob/entropy kernels (logprob_kernel.h): what
// chunked_token_logprobs does with one chunk's logits, in one pass each way instead of float32
// copies and elementwise passes. Compiled in CUDA builds only.
#pragma once

#include <torch/torch.h>

namespace grpo::rl {

// logits: one chunk's h·Wᵀ [c, V]. True when bf16, on CUDA and contiguous.
bool logprob_rows_apply(const torch::Tensor& logits);

// Writes, per row, log softmax(z/τ)[token], the entropy of softmax(z/τ), the max of z/τ and
// log Σ exp(z/τ - max) into the float32 [c] / [c, 1] outputs (contiguous slices).
void logprob_rows_forward(const torch::Tensor& logits, const torch::Tensor& tokens, double inv_temperature,
                          torch::Tensor logprobs, torch::Tensor entropy, torch::Tensor row_max, torch::Tensor log_sum);

// Overwrites logits (the same chunk, recomputed) with ∂L/∂z in bf16, given the forward's
// row_max, log_sum and entropy and the upstream gradients of the log-probs and entropies (either
// may be undefined: zero).
void logprob_rows_backward(torch::Tensor& logits, const torch::Tensor& tokens, double inv_temperature,
                           const torch::Tensor& row_max, const torch::Tensor& log_sum, const torch::Tensor& entropy,
                           const torch::Tensor& grad_logprobs, const torch::Tensor& grad_entropy);

}  // namespace grpo::rl
