// A micro-batch's sequences packed for the forward: every row's prompt + completion back to back
// in one row of Σ lengths tokens, no padding. cu_seqlens delimits the sequences and positions
// restart at 0 in each, so the model (attention through varlen_attention.h) gives every token
// what the padded batch gives it; predict_from maps each completion token to the packed position
// whose hidden state predicts it, so completion-aligned outputs keep the padded [N, Tc] layout
// and losses, aggregations and metrics are unchanged. Not here: choosing which rows share a
// micro-batch (grad_accumulation.h, MicroBatchLimit::packed), the sequence-wise MoE balance
// loss (the forward refuses it on packed rows).
#pragma once

#include <torch/torch.h>

#include "rl/trainer/sequence_batch.h"

namespace grpo::rl {

struct PackedSequences {
  torch::Tensor input_ids;     // [1, S] int64, S = Σ (prompt + completion) lengths
  torch::Tensor positions;     // [1, S] int64: 0, 1, ... within each sequence
  torch::Tensor cu_seqlens;    // [N + 1] int32: sequence i is tokens [cu[i], cu[i + 1])
  int64_t max_seqlen = 0;      // the longest sequence
  torch::Tensor predict_from;  // [N, Tc] int64 in [0, S): the state predicting each completion token
};

// batch's rows, in order, on batch's device (index tensors built on the host, copied once each).
PackedSequences pack_sequences(const SequenceBatch& batch);

}  // namespace grpo::rl
