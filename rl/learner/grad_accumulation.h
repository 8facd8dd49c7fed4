// Splitting an optimizer step's batch into micro-batches whose weighted losses add up to the
// loss of the whole batch, for every aggregation mode. Each micro-batch's aggregated loss is
// multiplied by its loss_weight before backward():
//   sequence unit (seq-mean-*):   weight = rows in the micro-batch / rows in the step
//   token unit (token-mean):      weight = active tokens in the micro-batch / active tokens in the step
//   absolute (token-mean-global): weight = 1 (the normaliser is already the global count)
// so Σ_k weight_k · aggregate(micro-batch k) = aggregate(step batch) exactly, even when
// micro-batches differ in size or length (TRL and verl's legacy path divide by the number of
// micro-batches instead, which is exact only for equal micro-batches). Not here: length-balanced
// packing of micro-batches, data-parallel splits.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace grpo::rl {

struct MicroBatch {
  int64_t begin = 0;         // first row (inclusive)
  int64_t end = 0;           // last row (exclusive)
  double loss_weight = 1.0;  // multiply the micro-batch's aggregated loss by this
};

// mask: [N, T] completion mask of the whole step batch; rows are taken in order,
// micro_batch_rows at a time (the last micro-batch may be smaller). aggregation: a name from
// loss_aggregations().
std::vector<MicroBatch> plan_micro_batches(const torch::Tensor& mask, int64_t micro_batch_rows,
                                           const std::string& aggregation);

}  // namespace grpo::rl
