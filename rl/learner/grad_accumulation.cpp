// Micro-batch plans with exact loss weights per aggregation unit (see grad_accumulation.h).
#include "rl/learner/grad_accumulation.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {
namespace {

std::vector<std::vector<int64_t>> split_by_rows(int64_t n, int64_t rows) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t a = 0; a < n; a += rows) {
    out.emplace_back(std::min(n, a + rows) - a);
    std::iota(out.back().begin(), out.back().end(), a);
  }
  return out;
}

// Packed micro-batches cost their real tokens: each row (in `order`) joins the first micro-batch
// whose tokens stay within the budget with it, which fills the gaps long rows leave with short ones.
std::vector<std::vector<int64_t>> first_fit(const std::vector<int64_t>& lengths, const std::vector<int64_t>& order,
                                            int64_t budget) {
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> used;
  for (const int64_t row : order) {
    size_t k = 0;
    while (k < out.size() && used[k] + lengths[row] > budget) ++k;
    if (k == out.size()) out.emplace_back(), used.push_back(0);
    out[k].push_back(row);
    used[k] += lengths[row];
  }
  return out;
}

// Longest first, so the first micro-batch is the widest: the caching allocator meets the
// largest activations at once instead of growing block by block. A row joins the open
// micro-batch while (rows + 1) × the micro-batch's longest row stays within the budget; packed,
// first_fit places it.
std::vector<std::vector<int64_t>> split_by_tokens(const std::vector<int64_t>& lengths, const MicroBatchLimit& limit) {
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
  const int64_t longest = lengths[order.front()];
  require(longest <= limit.tokens, "'" + limit.tokens_key + "' is " + std::to_string(limit.tokens) +
                                       " token slots, but a sequence (prompt + completion) has " + std::to_string(longest) +
                                       " tokens; a micro-batch holds at least one sequence, so set it to at least " +
                                       std::to_string(longest));
  if (limit.packed) return first_fit(lengths, order, limit.tokens);
  std::vector<std::vector<int64_t>> out;
  int64_t width = 0;
  for (const int64_t row : order) {
    if (out.empty() || static_cast<int64_t>(out.back().size() + 1) * width > limit.tokens) {
      out.emplace_back();
      width = lengths[row];
    }
    out.back().push_back(row);
  }
  return out;
}

}  // namespace

std::vector<std::vector<int64_t>> split_micro_batches(const std::vector<int64_t>& sequence_lengths,
                                                      const MicroBatchLimit& limit) {
  require(!sequence_lengths.empty(), "micro-batches: the step batch has no rows");
  require(limit.tokens >= 0, "'" + limit.tokens_key + "': expected a value >= 0, got " + std::to_string(limit.tokens));
  if (limit.tokens > 0) return split_by_tokens(sequence_lengths, limit);
  require(limit.rows > 0, "micro_batch_rows: expected a value > 0, got " + std::to_string(limit.rows));
  return split_by_rows(static_cast<int64_t>(sequence_lengths.size()), limit.rows);
}

std::vector<MicroBatch> plan_micro_batches(const torch::Tensor& mask, const std::vector<int64_t>& sequence_lengths,
                                           const MicroBatchLimit& limit, const std::string& aggregation) {
  const auto unit = loss_aggregations().get(aggregation).unit;
  require_rank(mask, 2, "mask");
  const int64_t n = mask.size(0);
  require(n == static_cast<int64_t>(sequence_lengths.size()),
          "micro-batches: the mask has " + std::to_string(n) + " rows but " + std::to_string(sequence_lengths.size()) +
              " sequence lengths were given");
  const auto tokens_per_row = (mask != 0).sum(1).to(torch::kFloat64).cpu().contiguous();
  const double* tokens = tokens_per_row.data_ptr<double>();
  const double total_tokens = std::accumulate(tokens, tokens + n, 0.0);

  std::vector<MicroBatch> plan;
  for (auto& rows : split_micro_batches(sequence_lengths, limit)) {
    MicroBatch mb{std::move(rows), 1.0};
    if (unit == AccumulationUnit::kSequence) {
      mb.loss_weight = static_cast<double>(mb.rows.size()) / static_cast<double>(n);
    } else if (unit == AccumulationUnit::kToken) {
      double active = 0;
      for (const int64_t r : mb.rows) active += tokens[r];
      mb.loss_weight = total_tokens > 0.0 ? active / total_tokens : 0.0;
    }
    plan.push_back(std::move(mb));
  }
  return plan;
}

}  // namespace grpo::rl
