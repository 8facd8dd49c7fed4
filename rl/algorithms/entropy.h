// Entropy of the next-token distribution, per position, from logits: H = -Σ_v p_v·log p_v with
// p = softmax(z), computed in float32 from a stable log-softmax. This is the entropy metric and the quantity
// the entropy bonus (actor_loss.h) raises. For whole batches, rl/learner/chunked_logprobs.h computes it chunk
// by chunk from hidden states without materialising [N·T, V] logits; this function is for logits a caller
// already holds (one chunk, the rollout's last step, tests).
#pragma once

#include <torch/torch.h>

namespace grpo::rl {

// logits: [..., V] any floating dtype (temperature already applied). Returns [...] float32.
torch::Tensor entropy_from_logits(const torch::Tensor& logits);

}  // namespace grpo::rl
