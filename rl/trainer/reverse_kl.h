// The on-policy distillation loss: per token position, the reverse KL of the student's
// next-token distribution from the teacher's, over the full vocabulary,
//   KL_t = Σ_v p_s(v) · (log p_s(v) − log p_t(v)),   p = softmax(h · Wᵀ) at temperature 1,
// computed in chunks of positions from the two models' final hidden states and lm_heads, so
// neither model's [N·T, V] float32 logits exist at once. A custom backward recomputes each
// chunk (∂KL_t/∂z_s = p_s ⊙ (log p_s − log p_t − KL_t)), so the backward is chunked too.
// Exact per visited position, unlike the sampled-token k1 estimate log p_s(y) − log p_t(y), whose
// gradient needs a policy-gradient term; like every per-position KL loss it does not
// differentiate through which positions the student's sampling visits.
// Models whose vocabularies differ in padding (Qwen2.5-7B has 152064 rows, 0.5B 151936) are
// compared over the first min(Vs, Vt) ids; the ids past the tokenizer are never produced.
// Gradients flow to the student's hidden states and lm_head only. Not here: the forwards.
#pragma once

#include <torch/torch.h>

namespace grpo::rl {

// student_hidden: [N, T, Hs] float (position t's state predicts token t; the caller shifts);
// student_head: [Vs, Hs], same dtype; teacher_hidden: [N, T, Ht]; teacher_head: [Vt, Ht];
// mask: [N, T] float 0/1 or bool, positions to compute. Returns [N, T] float32 KL_t, 0 where
// mask == 0, differentiable with respect to student_hidden and student_head.
torch::Tensor chunked_reverse_kl(const torch::Tensor& student_hidden, const torch::Tensor& student_head,
                                 const torch::Tensor& teacher_hidden, const torch::Tensor& teacher_head,
                                 const torch::Tensor& mask, int64_t chunk_rows = 1024);

}  // namespace grpo::rl
