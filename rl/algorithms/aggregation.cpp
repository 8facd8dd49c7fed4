// The loss aggregations of aggregation.h. Masked entries are zeroed with where() (metrics.h), so
// that a non-finite value in padding cannot leak into the sum.
#include "rl/algorithms/aggregation.h"

#include "core/error.h"
#include "rl/algorithms/metrics.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {
namespace {

torch::Tensor seq_mean_token_mean(const torch::Tensor& l, const torch::Tensor& mask,
                                  const AggregationContext&) {
  const auto per_seq = zero_outside_mask(l, mask).sum(1) / float_mask(mask).sum(1).clamp_min(1.0);
  return per_seq.mean();
}

torch::Tensor token_mean(const torch::Tensor& l, const torch::Tensor& mask, const AggregationContext&) {
  return zero_outside_mask(l, mask).sum() / float_mask(mask).sum().clamp_min(1.0);
}

torch::Tensor token_mean_global(const torch::Tensor& l, const torch::Tensor& mask,
                                const AggregationContext& c) {
  require(c.global_token_count > 0.0,
          "token-mean-global: global_token_count must be > 0 (the active tokens of the whole batch), got " +
              std::to_string(c.global_token_count));
  return zero_outside_mask(l, mask).sum() / c.global_token_count;
}

torch::Tensor seq_mean_token_sum(const torch::Tensor& l, const torch::Tensor& mask,
                                 const AggregationContext&) {
  return zero_outside_mask(l, mask).sum(1).mean();
}

torch::Tensor seq_mean_token_sum_norm(const torch::Tensor& l, const torch::Tensor& mask,
                                      const AggregationContext& c) {
  require(c.max_completion_length > 0.0, "seq-mean-token-sum-norm: max_completion_length must be > 0, got " +
                                             std::to_string(c.max_completion_length));
  return zero_outside_mask(l, mask).sum(1).mean() / c.max_completion_length;
}

}  // namespace

Registry<Aggregation>& loss_aggregations() {
  static Registry<Aggregation> registry("loss aggregation", {
      {"seq-mean-token-mean", {seq_mean_token_mean, AccumulationUnit::kSequence}},
      {"token-mean", {token_mean, AccumulationUnit::kToken}},
      {"token-mean-global", {token_mean_global, AccumulationUnit::kAbsolute}},
      {"seq-mean-token-sum", {seq_mean_token_sum, AccumulationUnit::kSequence}},
      {"seq-mean-token-sum-norm", {seq_mean_token_sum_norm, AccumulationUnit::kSequence}},
  });
  return registry;
}

torch::Tensor aggregate_loss(const std::string& name, const torch::Tensor& per_token,
                             const torch::Tensor& mask, const AggregationContext& context) {
  const auto& entry = loss_aggregations().get(name);
  require_rank(per_token, 2, "per_token_loss");
  require_shape(mask, per_token.sizes(), "mask");
  return entry.fn(per_token, mask, context);
}

}  // namespace grpo::rl
