// The GRPO update: old/ref log-probs, rollout correction, μ passes over minibatches and
// micro-batches, guarded optimizer steps; see grpo_learner.h.
#include "rl/trainer/grpo_learner.h"

#include "core/error.h"
#include "rl/algorithms/actor_loss.h"
#include "rl/algorithms/rollout_correction.h"
#include "rl/learner/grad_accumulation.h"

namespace grpo::rl {
namespace {

// Running mean of metric values over micro-batches.
struct MetricAverager {
  std::map<std::string, double> sum;
  std::map<std::string, int64_t> count;
  void add(const std::map<std::string, double>& values) {
    for (const auto& [k, v] : values) sum[k] += v, count[k] += 1;
  }
  std::map<std::string, double> means() const {
    std::map<std::string, double> out;
    for (const auto& [k, v] : sum) out[k] = v / static_cast<double>(count.at(k));
    return out;
  }
};

torch::Tensor rows(const torch::Tensor& t, int64_t begin, int64_t end, int64_t width) {
  if (!t.defined()) return t;
  auto r = t.slice(0, begin, end);
  return r.dim() == 2 ? r.slice(1, 0, width) : r;
}

}  // namespace

GrpoLearner::GrpoLearner(model::CausalLM policy, const GrpoSettings& rl, const OptimSettings& optim,
                         double temperature, int64_t max_completion_length, int64_t total_steps,
                         std::optional<torch::Dtype> compute_dtype)
    : policy_(std::move(policy)), rl_(rl), optim_(optim), temperature_(temperature > 0 ? temperature : 1.0),
      max_completion_length_(max_completion_length), steps_per_update_(rl.num_iterations * rl.minibatches),
      optimizer_(std::make_unique<StageOptimizer>(policy_, optim, total_steps * steps_per_update_, compute_dtype)) {}

torch::Tensor GrpoLearner::score(model::CausalLM& model, const SequenceBatch& batch) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  const int64_t n = batch.rows(), width = batch.targets.size(1);
  for (int64_t b = 0; b < n; b += rl_.micro_batch_size) {
    const int64_t e = std::min(n, b + rl_.micro_batch_size);
    auto lp = completion_logprobs(model, slice_rows(batch, b, e), temperature_).logprobs;
    parts.push_back(torch::constant_pad_nd(lp, {0, width - lp.size(1)}));
  }
  return torch::cat(parts, 0);
}

LearnerReport GrpoLearner::update(const LearnerBatch& batch, int64_t step) {
  const auto& seqs = batch.sequences;
  const int64_t n = seqs.rows();
  LearnerReport report;
  MetricAverager metrics;

  torch::Tensor old_logprobs, is_weights;
  const bool correction = rl_.rollout_correction != "none";
  if (rl_.num_iterations > 1 || correction) old_logprobs = score(policy_, seqs);
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
  const int64_t mb_rows = (n + rl_.minibatches - 1) / rl_.minibatches;
  for (int64_t pass = 0; pass < rl_.num_iterations; ++pass) {
    for (int64_t mb_begin = 0; mb_begin < n; mb_begin += mb_rows) {
      const int64_t mb_end = std::min(n, mb_begin + mb_rows);
      auto mb_mask = batch.loss_mask.slice(0, mb_begin, mb_end);
      lo.aggregation_context.global_token_count = std::max(1.0, mb_mask.sum().item<double>());
      const auto plan = plan_micro_batches(mb_mask, rl_.micro_batch_size, rl_.loss_aggregation);
      double step_loss = 0;
      for (const auto& micro : plan) {
        const int64_t b = mb_begin + micro.begin, e = mb_begin + micro.end;
        auto sub = slice_rows(seqs, b, e);
        const int64_t w = sub.targets.size(1);
        auto lp = completion_logprobs(policy_, sub, temperature_);
        ActorLossInput in;
        in.logprobs = lp.logprobs;
        in.entropy = lp.entropy;
        in.old_logprobs = rows(old_logprobs, b, e, w);
        in.advantages = batch.advantages.slice(0, b, e);
        in.mask = rows(batch.loss_mask, b, e, w);
        in.ref_logprobs = lo.kl_beta > 0 ? rows(batch.ref_logprobs, b, e, w) : torch::Tensor();
        in.is_weights = rows(is_weights, b, e, w);
        auto result = actor_loss(in, lo);
        auto weighted = result.loss * micro.loss_weight;
        optimizer_->backward(weighted);
        step_loss += weighted.item<double>();
        metrics.add(metric_values(result.metrics));
        report.trained_tokens += static_cast<int64_t>(in.mask.sum().item<double>());
      }
      // 1-based optimizer step: training step `step` (0-based here) runs steps_per_update_ of them.
      const int64_t opt_step = step * steps_per_update_ + report.optimizer_steps + 1;
      const double lr = optimizer_->lr_at(opt_step);
      const auto sr = optimizer_->step(opt_step, step_loss);
      ++report.optimizer_steps;
      if (sr.skipped) ++report.skipped_steps;
      metrics.add({{"optim/grad_norm", sr.grad.norm}, {"optim/lr", lr}, {"optim/clipped", sr.grad.clipped ? 1.0 : 0.0}});
    }
  }
  policy_->eval();
  report.metrics = metrics.means();
  report.metrics["optim/skipped_steps"] = static_cast<double>(report.skipped_steps);
  return report;
}

}  // namespace grpo::rl
