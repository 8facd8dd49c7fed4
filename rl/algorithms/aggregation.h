// Loss aggregation: a per-token loss matrix [N, T] and its mask → the scalar that is
// differentiated. The choice decides how much each token of a long answer weighs, and it is what
// separates GRPO, DAPO and Dr. GRPO. Registered by name (verl's loss_agg_mode, plus one):
//   seq-mean-token-mean      mean_i( Σ_t l·m / max(Σ_t m, 1) )           TRL grpo, verl, GSPO
//   token-mean               Σ l·m / max(Σ m, 1) over this batch           TRL bnpo (local)
//   token-mean-global        Σ l·m / global_token_count                     TRL dapo, DAPO paper
//   seq-mean-token-sum       mean_i( Σ_t l·m )                              verl
//   seq-mean-token-sum-norm  Σ l·m / (N · max_completion_length)           Dr. GRPO, TRL dr_grpo,
//                                                                            verl with a constant
// N counts every row, empty ones included, as TRL and verl do. Each entry also states the unit
// that the gradient-accumulation helper (rl/learner/grad_accumulation.h) weighs micro-batches by,
// so that accumulated micro-batches give exactly the gradient of one pass over the whole step.
// Not here: distributed all-reduce of the counts (the caller passes global counts in).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "core/registry.h"

namespace grpo::rl {

struct AggregationContext {
  // token-mean-global: active tokens in the whole batch the step normalises by (DAPO: the
  // generation batch). With data parallelism where gradients are averaged over W ranks, pass
  // global_count / W, as TRL does.
  double global_token_count = 0.0;
  // seq-mean-token-sum-norm: the constant normaliser (max_completion_length, not the padded T of
  // this batch, so that the scale does not move with the batch's longest answer).
  double max_completion_length = 0.0;
};

// What a micro-batch's share of the step is proportional to.
enum class AccumulationUnit {
  kSequence,  // the value is a mean over rows: weigh by rows
  kToken,     // the value is a mean over active tokens: weigh by active tokens
  kAbsolute,  // the normaliser is already global: weigh 1
};

// per_token: [N, T] float32; mask: [N, T] bool or float 0/1. Returns a 0-dim float32 tensor.
using AggregateFn = std::function<torch::Tensor(const torch::Tensor& per_token, const torch::Tensor& mask,
                                                const AggregationContext&)>;

struct Aggregation {
  AggregateFn fn;
  AccumulationUnit unit;
};

// The table of aggregations; built-ins are present on first use.
Registry<Aggregation>& loss_aggregations();

// Looks `name` up and applies it, after checking that per_token and mask have the same [N, T].
torch::Tensor aggregate_loss(const std::string& name, const torch::Tensor& per_token,
                             const torch::Tensor& mask, const AggregationContext& context);

}  // namespace grpo::rl
