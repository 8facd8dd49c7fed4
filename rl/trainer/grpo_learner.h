// The GRPO learner: one step's completions (with advantages) in, μ passes of clipped policy
// updates out. Old log-probs are computed once before the first update when μ > 1 or a rollout
// correction is on; reference log-probs when β > 0 (and the KL is in the loss). Each pass splits
// the batch into `minibatches` optimizer steps, each accumulated over micro-batches whose loss
// weights make the sum exactly the minibatch's aggregated loss (grad_accumulation.h): rows
// `rl.micro_batch_size` at a time, or with `rl.micro_batch_tokens` set, rows sorted by length and
// binned by that budget of token slots, which then bounds every forward's activations. With
// `rl.pack_sequences` each micro-batch's rows are packed into one row for the forward (no padding
// computed; the budget then counts their real tokens) and give the padded path's loss and
// gradients (packed_batch.h).
// A non-finite loss or gradient skips that optimizer step and is reported, never applied.
// Data parallel (a ProcessGroup given): each rank holds whole groups of every minibatch; the
// minibatches' row and token totals are summed over ranks so that each micro-batch's loss weight
// (and token-mean-global's normaliser) is its share of the global minibatch, and the gradients
// and minibatch losses are summed over ranks before each optimizer step, so every rank steps
// exactly as one process would on the whole batch. With zero_stage 1 the optimizer state is
// sharded over the ranks (ZeRO-1, StageOptimizer); with 0 every rank holds all of it.
// Not here: sampling, rewards, advantages (the trainer), reduce-scatter of the gradients
// (ZeRO-2), bucketing the reduction into the backward.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "distributed/process_group.h"
#include "model/arch/transformer.h"
#include "rl/algorithms/metrics.h"
#include "rl/learner/grad_accumulation.h"
#include "rl/trainer/grpo_settings.h"
#include "rl/trainer/sequence_batch.h"
#include "rl/trainer/stage_optimizer.h"

namespace grpo::rl {

struct LearnerBatch {
  SequenceBatch sequences;          // prompt + completion per row, groups contiguous
  torch::Tensor advantages;         // [N] float32
  torch::Tensor rollout_logprobs;   // [N, Tc] float32 (sampler log-probs), for rollout correction
  torch::Tensor loss_mask;          // [N, Tc] float32: completion_mask, minus masked rows (truncated)
  torch::Tensor ref_logprobs;       // [N, Tc] float32 when β > 0 and the KL is in the loss
  // rl.moe_routing_replay: rollout: [N, L, MoE layers, K] int16 on the CPU, the rollout's experts
  // per token (routing_replay.h), -1 = route that token; undefined = every token routes itself.
  torch::Tensor replayed_routes;
};

struct LearnerReport {
  // actor/*, mismatch/*, optim/*; per-micro-batch values are averaged weighted by active tokens,
  // except mismatch/abs_logp_{mean,max}, taken over all compared tokens (logprob_mismatch.h)
  std::map<std::string, double> metrics;
  // MoE policies: router/layer<L>/expert_load of this update's training forwards (their
  // router/layer<L>/load_cv, dead_experts, bias_norm are in metrics; router_health.h).
  std::map<std::string, std::vector<double>> histograms;
  std::vector<double> minibatch_losses;  // each optimizer step's loss: Σ weight · micro-batch loss
  int64_t optimizer_steps = 0, skipped_steps = 0;
  int64_t trained_tokens = 0;
};

// One optimizer step's rows: the minibatch [begin, end) and its micro-batches, whose row
// indices are the whole batch's.
struct MinibatchPlan {
  int64_t begin = 0, end = 0;
  std::vector<MicroBatch> micro_batches;
};

// The micro-batch limit of the `rl:` settings: micro_batch_tokens when set (counting real tokens
// with rl.pack_sequences), rows otherwise.
MicroBatchLimit micro_batch_limit(const GrpoSettings& rl);

// How the learner's forwards see each micro-batch: packed with rl.pack_sequences, else padded.
SequenceLayout learner_layout(const GrpoSettings& rl);

// Data parallel over world_size ranks: each step's prompts (rl.batch_size / rl.group_size) must
// split into whole groups per rank in every minibatch, i.e. be a multiple of world_size ×
// rl.minibatches; otherwise an error naming the numbers. Nothing to check for one process.
void check_data_parallel_split(const GrpoSettings& rl, int world_size);

// The optimizer steps of one pass over `batch`: rl.minibatches runs of consecutive rows, each
// planned by plan_micro_batches. Fails (naming rl.micro_batch_tokens) before any work when a
// sequence is longer than the token budget.
std::vector<MinibatchPlan> plan_minibatches(const LearnerBatch& batch, const GrpoSettings& rl);

class GrpoLearner {
 public:
  // total_steps: training steps of the run (for the cosine schedule). compute_dtype: see
  // StageOptimizer (the policy is cast to it here, after its masters are taken). data_parallel:
  // the ranks that share each batch (not owned; outlives the learner), or nullptr for one process.
  // zero_stage: distributed.zero_stage (1: the optimizer state sharded over data_parallel's ranks).
  GrpoLearner(model::CausalLM policy, const GrpoSettings& rl, const OptimSettings& optim, double temperature,
              int64_t max_completion_length, int64_t total_steps,
              std::optional<torch::Dtype> compute_dtype = std::nullopt,
              distributed::ProcessGroup* data_parallel = nullptr, int zero_stage = 0);

  LearnerReport update(const LearnerBatch& batch, int64_t step);

  StageOptimizer& optimizer() { return *optimizer_; }
  // Log-probs of the completion tokens without gradients, micro-batch by micro-batch (the same
  // split as update()'s), in the batch's row order: [N, Tc] float32, 0 past each completion.
  // replayed_routes: LearnerBatch::replayed_routes of `batch`, or undefined (route every token).
  torch::Tensor score(model::CausalLM& model, const SequenceBatch& batch,
                      const torch::Tensor& replayed_routes = {}) const;

 private:
  model::CausalLM policy_;
  GrpoSettings rl_;
  OptimSettings optim_;
  double temperature_;
  int64_t max_completion_length_;
  // Optimizer steps per training step: μ passes × minibatches.
  int64_t steps_per_update_;
  std::unique_ptr<StageOptimizer> optimizer_;
  distributed::ProcessGroup* data_parallel_;
};

}  // namespace grpo::rl
