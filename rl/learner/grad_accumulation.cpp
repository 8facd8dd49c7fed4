// Micro-batch plans with exact loss weights per aggregation unit (see grad_accumulation.h).
#include "rl/learner/grad_accumulation.h"

#include <algorithm>

#include "core/error.h"
#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {

std::vector<MicroBatch> plan_micro_batches(const torch::Tensor& mask, int64_t micro_batch_rows,
                                           const std::string& aggregation) {
  const auto unit = loss_aggregations().get(aggregation).unit;
  require_rank(mask, 2, "mask");
  require(micro_batch_rows > 0,
          "micro_batch_rows: expected a value > 0, got " + std::to_string(micro_batch_rows));
  const int64_t n = mask.size(0);
  require(n > 0, "mask: the step batch has no rows");
  const auto tokens_per_row = (mask != 0).sum(1).to(torch::kFloat64).cpu();
  const double total_tokens = tokens_per_row.sum().item<double>();

  std::vector<MicroBatch> plan;
  for (int64_t a = 0; a < n; a += micro_batch_rows) {
    MicroBatch mb{a, std::min(n, a + micro_batch_rows), 1.0};
    if (unit == AccumulationUnit::kSequence) {
      mb.loss_weight = static_cast<double>(mb.end - mb.begin) / static_cast<double>(n);
    } else if (unit == AccumulationUnit::kToken) {
      const double tokens = tokens_per_row.slice(0, mb.begin, mb.end).sum().item<double>();
      mb.loss_weight = total_tokens > 0.0 ? tokens / total_tokens : 0.0;
    }
    plan.push_back(mb);
  }
  return plan;
}

}  // namespace grpo::rl
