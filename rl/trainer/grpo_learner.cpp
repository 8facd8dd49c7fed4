// The GRPO update: old/ref log-probs, rollout correction, μ passes over minibatches and
// micro-batches, guarded optimizer steps; see grpo_learner.h.
#include "rl/trainer/grpo_learner.h"

#include "core/error.h"
#include "rl/algorithms/actor_loss.h"
#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/logprob_mismatch.h"
#include "rl/algorithms/rollout_correction.h"
#include "rl/trainer/routing_replay.h"

namespace grpo::rl {
namespace {

// Weighted running mean of metric values: micro-batches weigh by their active tokens, so that
// sorting rows by length (short micro-batches of long rows) does not tilt token-mean metrics.
struct MetricAverager {
  std::map<std::string, double> sum, weight;
  void add(const std::map<std::string, double>& values, double w = 1.0) {
    for (const auto& [k, v] : values) sum[k] += v * w, weight[k] += w;
  }
  std::map<std::string, double> means() const {
    std::map<std::string, double> out;
    for (const auto& [k, v] : sum) out[k] = weight.at(k) > 0 ? v / weight.at(k) : 0.0;
    return out;
  }
};

// Rows `index` of a per-row tensor ([N], [N, Tc] or the [N, L, layers, K] routes), the
// completion-aligned [N, Tc] ones cut to `width`.
torch::Tensor rows(const torch::Tensor& t, const torch::Tensor& index, int64_t width) {
  if (!t.defined()) return t;
  return (t.dim() == 2 ? t.slice(1, 0, width) : t).index_select(0, index.to(t.device()));
}

// Data parallel: each micro-batch's loss weight was planned against this rank's share of its
// minibatch; rescaled by this rank's rows (sequence unit) or active tokens (token unit) over the
// minibatch's totals summed over ranks, it becomes its share of the global minibatch, so the
// ranks' weighted losses add up to the one-process loss. Returns each minibatch's global active
// tokens (token-mean-global's normaliser). One all-reduce of [minibatches, 2] float64.
std::vector<double> weigh_by_global_totals(std::vector<MinibatchPlan>& plans, const torch::Tensor& loss_mask,
                                           const std::string& aggregation, distributed::ProcessGroup& group) {
  const int64_t count = static_cast<int64_t>(plans.size());
  auto local = torch::zeros({count, 2}, torch::kFloat64);
  for (int64_t k = 0; k < count; ++k) {
    const auto& p = plans[static_cast<size_t>(k)];
    local[k][0] = static_cast<double>(p.end - p.begin);
    local[k][1] = (loss_mask.slice(0, p.begin, p.end) != 0).sum().item<double>();
  }
  auto summed = local.to(loss_mask.device(), /*non_blocking=*/false, /*copy=*/true);  // local stays this rank's
  group.all_reduce_sum({summed});
  const auto global = summed.cpu();
  const auto unit = loss_aggregations().get(aggregation).unit;
  std::vector<double> global_tokens;
  for (int64_t k = 0; k < count; ++k) {
    const double rows = local[k][0].item<double>(), tokens = local[k][1].item<double>();
    const double all_rows = global[k][0].item<double>(), all_tokens = global[k][1].item<double>();
    double scale = 1.0;
    if (unit == AccumulationUnit::kSequence) scale = rows / all_rows;
    if (unit == AccumulationUnit::kToken) scale = all_tokens > 0 ? tokens / all_tokens : 0.0;
    for (auto& micro : plans[static_cast<size_t>(k)].micro_batches) micro.loss_weight *= scale;
    global_tokens.push_back(std::max(1.0, all_tokens));
  }
  return global_tokens;
}

// Sums this rank's gradients and minibatch loss over the ranks, in place, before the optimizer
// step: every rank then clips, skips (the loss is one of its tests) and steps alike.
double sum_over_ranks(StageOptimizer& optimizer, double loss, const torch::Device& device,
                      distributed::ProcessGroup& group) {
  auto tensors = optimizer.masters().gradients();
  auto summed_loss = torch::full({1}, loss, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  tensors.push_back(summed_loss);
  group.all_reduce_sum(tensors);
  return summed_loss.item<double>();
}

}  // namespace

void check_data_parallel_split(const GrpoSettings& rl, int world_size) {
  if (world_size <= 1) return;
  const int64_t prompts = rl.batch_size / rl.group_size, ways = static_cast<int64_t>(world_size) * rl.minibatches;
  require(prompts % ways == 0,
          "data parallel over " + std::to_string(world_size) + " ranks: each step's " + std::to_string(prompts) +
              " prompts (rl.batch_size " + std::to_string(rl.batch_size) + " / rl.group_size " +
              std::to_string(rl.group_size) + ") must split into whole groups for every rank in each of the " +
              std::to_string(rl.minibatches) + " rl.minibatches, so the prompts must be a multiple of " +
              std::to_string(ways) + " (ranks × rl.minibatches)");
}

MicroBatchLimit micro_batch_limit(const GrpoSettings& rl) {
  MicroBatchLimit limit;
  limit.rows = rl.micro_batch_size;
  limit.tokens = rl.micro_batch_tokens;
  limit.tokens_key = "rl.micro_batch_tokens";
  limit.packed = rl.pack_sequences;
  return limit;
}

SequenceLayout learner_layout(const GrpoSettings& rl) {
  return rl.pack_sequences ? SequenceLayout::kPacked : SequenceLayout::kPadded;
}

std::vector<MinibatchPlan> plan_minibatches(const LearnerBatch& batch, const GrpoSettings& rl) {
  const int64_t n = batch.sequences.rows(), mb_rows = (n + rl.minibatches - 1) / rl.minibatches;
  const auto lengths = sequence_lengths(batch.sequences);
  std::vector<MinibatchPlan> plans;
  for (int64_t begin = 0; begin < n; begin += mb_rows) {
    MinibatchPlan p{begin, std::min(n, begin + mb_rows), {}};
    p.micro_batches = plan_micro_batches(batch.loss_mask.slice(0, p.begin, p.end),
                                         {lengths.begin() + p.begin, lengths.begin() + p.end}, micro_batch_limit(rl),
                                         rl.loss_aggregation);
    for (auto& micro : p.micro_batches)
      for (auto& r : micro.rows) r += p.begin;
    plans.push_back(std::move(p));
  }
  return plans;
}

GrpoLearner::GrpoLearner(model::CausalLM policy, const GrpoSettings& rl, const OptimSettings& optim,
                         double temperature, int64_t max_completion_length, int64_t total_steps,
                         std::optional<torch::Dtype> compute_dtype, distributed::ProcessGroup* data_parallel,
                         int zero_stage)
    : policy_(std::move(policy)), rl_(rl), optim_(optim), temperature_(temperature > 0 ? temperature : 1.0),
      max_completion_length_(max_completion_length), steps_per_update_(rl.num_iterations * rl.minibatches),
      optimizer_(std::make_unique<StageOptimizer>(policy_, optim, total_steps * steps_per_update_, compute_dtype,
                                                  std::nullopt, zero_stage == 1 ? data_parallel : nullptr)),
      data_parallel_(data_parallel) {
  require(zero_stage == 0 || zero_stage == 1,
          "distributed.zero_stage: expected 0 or 1, got " + std::to_string(zero_stage));
  if (data_parallel_) check_data_parallel_split(rl_, data_parallel_->size());
  require(rl_.moe_routing_replay != "rollout" || !policy_->moe_layers().empty(),
          "rl.moe_routing_replay: rollout needs a MoE policy (DeepSeek-V2/V3 routed experts); this policy has no MoE "
          "layer, set it to off");
}

torch::Tensor GrpoLearner::score(model::CausalLM& model, const SequenceBatch& batch,
                                 const torch::Tensor& replayed_routes) const {
  torch::NoGradGuard no_grad;
  const int64_t width = batch.targets.size(1);
  torch::Tensor out;
  for (const auto& micro_rows : split_micro_batches(sequence_lengths(batch), micro_batch_limit(rl_))) {
    const auto sub = select_rows(batch, micro_rows);
    const auto index = torch::tensor(micro_rows, torch::kInt64);
    RouteReplay replay(model, rows(replayed_routes, index, 0), sub, learner_layout(rl_));
    auto lp = completion_logprobs(model, sub, temperature_, learner_layout(rl_)).logprobs;
    if (!out.defined()) out = torch::zeros({batch.rows(), width}, lp.options());
    out.index_copy_(0, torch::tensor(micro_rows, torch::kInt64).to(lp.device()),
                    torch::constant_pad_nd(lp, {0, width - lp.size(1)}));
  }
  return out;
}

LearnerReport GrpoLearner::update(const LearnerBatch& batch, int64_t step) {
  const auto& seqs = batch.sequences;
  // Planned first: a sequence longer than rl.micro_batch_tokens fails before any forward.
  auto plans = plan_minibatches(batch, rl_);
  std::vector<double> global_tokens;
  if (data_parallel_) global_tokens = weigh_by_global_totals(plans, batch.loss_mask, rl_.loss_aggregation, *data_parallel_);
  LearnerReport report;
  MetricAverager metrics;

  torch::Tensor old_logprobs, is_weights;
  const bool correction = rl_.rollout_correction != "none";
  if (rl_.num_iterations > 1 || correction) old_logprobs = score(policy_, seqs, batch.replayed_routes);
  for (auto* moe : policy_->moe_layers()) moe->reset_expert_load();  // router health: this update's forwards
  // |Δ log p| against the pre-update policy: the old log-probs when scored, else the first
  // minibatch's forwards of pass 0 (later minibatches run after an optimizer step).
  LogprobMismatch mismatch;
  const bool measure_mismatch = batch.rollout_logprobs.defined();
  if (measure_mismatch && old_logprobs.defined())
    mismatch.add(old_logprobs, batch.rollout_logprobs, seqs.completion_mask);
  if (correction) {
    RolloutCorrectionOptions co;
    co.clip_max = rl_.rollout_correction_threshold;
    auto rc = rollout_correction(rl_.rollout_correction, old_logprobs, batch.rollout_logprobs, batch.loss_mask, co);
    is_weights = rc.weights;
    metrics.add(metric_values(rc.metrics));
  }

  ActorLossOptions lo;
  lo.policy_loss = rl_.policy_loss;
  lo.clip.epsilon_low = rl_.epsilon_low;
  lo.clip.epsilon_high = rl_.epsilon_high;
  lo.clip.dual_clip_c = rl_.dual_clip_c;
  lo.aggregation = rl_.loss_aggregation;
  lo.aggregation_context.max_completion_length = static_cast<double>(max_completion_length_);
  lo.kl_beta = rl_.kl_in_reward ? 0.0 : rl_.kl_beta;
  lo.kl_estimator = rl_.kl_estimator;
  lo.entropy_coef = rl_.entropy_coef;

  policy_->train();
  for (int64_t pass = 0; pass < rl_.num_iterations; ++pass) {
    for (size_t k = 0; k < plans.size(); ++k) {
      const auto& minibatch = plans[k];
      const auto mb_mask = batch.loss_mask.slice(0, minibatch.begin, minibatch.end);
      lo.aggregation_context.global_token_count =
          data_parallel_ ? global_tokens[k] : std::max(1.0, mb_mask.sum().item<double>());
      double step_loss = 0;
      for (const auto& micro : minibatch.micro_batches) {
        auto sub = select_rows(seqs, micro.rows);
        const int64_t w = sub.targets.size(1);
        const auto index = torch::tensor(micro.rows, torch::kInt64).to(batch.loss_mask.device());
        // Alive through the backward: a recomputed layer (activation checkpointing) replays too.
        RouteReplay replay(policy_, rows(batch.replayed_routes, index, 0), sub, learner_layout(rl_));
        auto lp = completion_logprobs(policy_, sub, temperature_, learner_layout(rl_));
        if (measure_mismatch && !old_logprobs.defined() && pass == 0 && k == 0)
          mismatch.add(lp.logprobs, rows(batch.rollout_logprobs, index, w), sub.completion_mask);
        ActorLossInput in;
        in.logprobs = lp.logprobs;
        in.entropy = lp.entropy;
        in.old_logprobs = rows(old_logprobs, index, w);
        in.advantages = rows(batch.advantages, index, w);
        in.mask = rows(batch.loss_mask, index, w);
        in.ref_logprobs = lo.kl_beta > 0 ? rows(batch.ref_logprobs, index, w) : torch::Tensor();
        in.is_weights = rows(is_weights, index, w);
        auto result = actor_loss(in, lo);
        auto weighted = result.loss * micro.loss_weight;
        optimizer_->backward(weighted);
        step_loss += weighted.item<double>();
        const double tokens = in.mask.sum().item<double>();
        metrics.add(metric_values(result.metrics), tokens);
        report.trained_tokens += static_cast<int64_t>(tokens);
      }
      if (data_parallel_) step_loss = sum_over_ranks(*optimizer_, step_loss, batch.loss_mask.device(), *data_parallel_);
      report.minibatch_losses.push_back(step_loss);
      // 1-based optimizer step: training step `step` (0-based here) runs steps_per_update_ of them.
      const int64_t opt_step = step * steps_per_update_ + report.optimizer_steps + 1;
      const double lr = optimizer_->lr_at(opt_step);
      const auto sr = optimizer_->step(opt_step, step_loss);
      ++report.optimizer_steps;
      if (sr.skipped) ++report.skipped_steps;
      metrics.add({{"optim/grad_norm", sr.grad.norm}, {"optim/lr", lr}, {"optim/clipped", sr.grad.clipped ? 1.0 : 0.0}});
      if (optimizer_->loss_scale() != 1.0) metrics.add({{"optim/loss_scale", optimizer_->loss_scale()}});
    }
  }
  policy_->eval();
  report.metrics = metrics.means();
  for (const auto& [name, value] : metric_values(mismatch.metrics())) report.metrics[name] = value;
  auto health = model::take_router_health(*policy_);
  report.metrics.insert(health.metrics.begin(), health.metrics.end());
  report.histograms = std::move(health.histograms);
  report.metrics["optim/skipped_steps"] = static_cast<double>(report.skipped_steps);
  return report;
}

}  // namespace grpo::rl
