// Splitting an optimizer step's batch into micro-batches whose weighted losses add up to the
// loss of the whole batch, for every aggregation mode. A micro-batch is a set of rows: either
// `rows` consecutive rows at a time, or (a token budget) rows ordered by length, longest first,
// and cut so that each micro-batch's padded token slots (rows × its longest row, what the
// forward allocates) stay within the budget, as verl's dynamic batch size does. Sorting puts
// rows of similar length together, so little of each micro-batch is padding, and peak memory
// follows the budget instead of the longest row × rows.
// Each micro-batch's aggregated loss is multiplied by its loss_weight before backward():
//   sequence unit (seq-mean-*):   weight = rows in the micro-batch / rows in the step
//   token unit (token-mean):      weight = active tokens in the micro-batch / active tokens in the step
//   absolute (token-mean-global): weight = 1 (the normaliser is already the global count)
// so Σ_k weight_k · aggregate(micro-batch k) = aggregate(step batch) exactly, whichever rows
// each micro-batch holds (TRL and verl's legacy path divide by the number of micro-batches
// instead, which is exact only for equal micro-batches). Not here: balancing micro-batches
// across data-parallel ranks, the packing itself (packed_batch.h).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace grpo::rl {

// How a batch is cut: `tokens` > 0 is a budget of padded token slots per micro-batch and
// `rows` is then unused; otherwise `rows` consecutive rows at a time. With `packed` the budget
// counts real tokens instead (the micro-batch's rows back to back in one row, packed_batch.h):
// rows, longest first, go to the first micro-batch they fit (first-fit decreasing).
struct MicroBatchLimit {
  int64_t rows = 1;
  int64_t tokens = 0;
  bool packed = false;
  std::string tokens_key = "micro_batch_tokens";  // the config key that errors name
};

struct MicroBatch {
  std::vector<int64_t> rows;  // row indices into the planned batch, each row in exactly one micro-batch
  double loss_weight = 1.0;   // multiply the micro-batch's aggregated loss by this
};

// The rows of each micro-batch. sequence_lengths: prompt + completion tokens of each row (the
// padded width the row needs). With a token budget, a row longer than the budget is an error
// naming its length, the budget and limit.tokens_key; ties in length keep their order.
std::vector<std::vector<int64_t>> split_micro_batches(const std::vector<int64_t>& sequence_lengths,
                                                      const MicroBatchLimit& limit);

// split_micro_batches with the loss weights of `aggregation` (a name from loss_aggregations()).
// mask: [N, T] completion (loss) mask of the step batch; N = sequence_lengths.size().
std::vector<MicroBatch> plan_micro_batches(const torch::Tensor& mask, const std::vector<int64_t>& sequence_lengths,
                                           const MicroBatchLimit& limit, const std::string& aggregation);

}  // namespace grpo::rl
