// Training batches of (prompt, completion) token sequences, and the log-probs a policy gives
// the completion tokens. Shared by the GRPO learner, SFT (the completion is the response, or
// the whole text in pre-training mode) and distillation.
//
// Layout: every row is prompt + completion, right-padded to the longest row. The completion's
// token j sits at position p + j (p = prompt length) and is predicted by the hidden state at
// p + j - 1; completion-aligned tensors are [N, Tc] with Tc = longest completion. The forward
// may see the rows packed instead (SequenceLayout, packed_batch.h); outputs keep this layout.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/arch/transformer.h"
#include "rl/learner/chunked_logprobs.h"

namespace grpo::rl {

struct SequenceBatch {
  torch::Tensor input_ids;        // [N, L] int64
  torch::Tensor attention_mask;   // [N, L] bool: real tokens (a prefix of each row)
  torch::Tensor targets;          // [N, Tc] int64: completion tokens (0 in padding)
  torch::Tensor completion_mask;  // [N, Tc] float32: 1 for real completion tokens
  torch::Tensor predict_from;     // [N, Tc] int64: position whose hidden state predicts targets
  std::vector<int64_t> prompt_lengths, completion_lengths;
  int64_t rows() const { return input_ids.size(0); }
};

// prompts[i] + completions[i] per row. Every completion must be non-empty and every prompt
// non-empty (the first completion token needs a predecessor).
SequenceBatch make_sequence_batch(const std::vector<std::vector<int64_t>>& prompts,
                                  const std::vector<std::vector<int64_t>>& completions, const torch::Device& device);

// Per-token values of each row's completion (e.g. the rollout's log-probs), one vector per row
// in batch order, laid out completion-aligned: [N, Tc] float32 on `device`, zero past each
// vector's end. A vector longer than its row's completion is an error naming the row.
torch::Tensor completion_aligned(const SequenceBatch& batch, const std::vector<const std::vector<float>*>& rows,
                                 const torch::Device& device);

// Prompt + completion tokens of each row: the width the row needs in a padded batch.
std::vector<int64_t> sequence_lengths(const SequenceBatch& batch);

// The given rows of a batch (whole-batch indices, in the order given; a micro-batch's rows),
// trimmed to their own longest row and completion.
SequenceBatch select_rows(const SequenceBatch& batch, const std::vector<int64_t>& rows);

// How the forward sees a batch: its padded [N, L] rows, or its rows packed back to back into
// one [1, Σ lengths] row (packed_batch.h: no padding computed). Both give every completion token
// the same log-prob (to rounding: the attention's reduction shapes differ).
enum class SequenceLayout { kPadded, kPacked };

// Log-probs and entropy of the completion tokens under `policy` at `temperature`, computed in
// chunks (never [N·L, V] float32 logits), [N, Tc] in either layout. Differentiable unless called
// under NoGradGuard.
TokenLogProbs completion_logprobs(model::CausalLM& policy, const SequenceBatch& batch, double temperature,
                                  SequenceLayout layout = SequenceLayout::kPadded, int64_t chunk_rows = 1024);

}  // namespace grpo::rl
