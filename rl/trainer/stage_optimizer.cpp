// AdamW + schedule + guarded step for single-model stages; see stage_optimizer.h.
#include "rl/trainer/stage_optimizer.h"

#include <algorithm>

#include "core/error.h"

namespace grpo::rl {

StageOptimizer::StageOptimizer(model::CausalLM& model, const OptimSettings& optim, int64_t total_steps)
    : max_grad_norm_(optim.max_grad_norm) {
  for (auto& p : model->parameters())
    if (p.requires_grad()) params_.push_back(p);
  require(optim.betas.size() == 2, "optim.betas must hold two numbers");
  AdamWOptions ao;
  ao.lr = optim.lr;
  ao.beta1 = optim.betas[0];
  ao.beta2 = optim.betas[1];
  ao.eps = optim.eps;
  ao.weight_decay = optim.weight_decay;
  optimizer_ = make_adamw(params_, ao);
  schedule_.base_lr = optim.lr;
  schedule_.warmup_steps = optim.warmup_steps;
  schedule_.total_steps = std::max<int64_t>(total_steps, optim.warmup_steps + 1);
  schedule_.kind = parse_schedule_kind(optim.schedule);
  schedule_.min_lr_ratio = optim.min_lr_ratio;
}

double StageOptimizer::lr_at(int64_t step) const { return learning_rate_at(step - 1, schedule_); }

StepReport StageOptimizer::step(int64_t step, double loss) {
  set_learning_rate(*optimizer_, lr_at(step));
  return guarded_step(*optimizer_, params_, max_grad_norm_, loss);
}

}  // namespace grpo::rl
