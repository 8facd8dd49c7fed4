// AdamW construction and the warmup + constant/cosine schedule (see optimizer.h).
#include "rl/learner/optimizer.h"

#include <cmath>

#include "core/error.h"

namespace grpo::rl {

std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<torch::Tensor>& params,
                                                const AdamWOptions& o) {
  require(o.lr >= 0.0, "optimizer lr: expected a value >= 0, got " + std::to_string(o.lr));
  require(o.beta1 >= 0.0 && o.beta1 < 1.0 && o.beta2 >= 0.0 && o.beta2 < 1.0,
          "optimizer betas: expected values in [0, 1), got " + std::to_string(o.beta1) + ", " +
              std::to_string(o.beta2));
  require(o.eps > 0.0, "optimizer eps: expected a value > 0");
  require(o.weight_decay >= 0.0, "optimizer weight_decay: expected a value >= 0");
  std::vector<torch::Tensor> decayed, plain;
  for (const auto& p : params) (p.dim() >= 2 ? decayed : plain).push_back(p);
  auto base = torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(base).weight_decay(o.weight_decay)));
  groups.emplace_back(plain, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(base).weight_decay(0.0)));
  return std::make_unique<torch::optim::AdamW>(std::move(groups), base);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "cosine") return ScheduleKind::cosine;
  throw Error("unknown lr schedule '" + name + "'; valid names: constant, cosine");
}

double learning_rate_at(int64_t step, const ScheduleOptions& o) {
  require(step >= 0, "schedule step: expected >= 0, got " + std::to_string(step));
  require(o.warmup_steps >= 0, "warmup_steps: expected >= 0, got " + std::to_string(o.warmup_steps));
  require(o.min_lr_ratio >= 0.0 && o.min_lr_ratio <= 1.0,
          "min_lr_ratio: expected a value in [0, 1], got " + std::to_string(o.min_lr_ratio));
  if (step < o.warmup_steps)
    return o.base_lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  if (o.kind == ScheduleKind::constant) return o.base_lr;
  require(o.total_steps > o.warmup_steps, "total_steps: the cosine schedule needs total_steps (" +
                                              std::to_string(o.total_steps) + ") > warmup_steps (" +
                                              std::to_string(o.warmup_steps) + ")");
  const double span = static_cast<double>(o.total_steps - o.warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - o.warmup_steps) / span);
  const double min_lr = o.base_lr * o.min_lr_ratio;
  return min_lr + (o.base_lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace grpo::rl
