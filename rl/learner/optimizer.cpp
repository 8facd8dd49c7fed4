// AdamW construction and the warmup + constant/cosine schedule (see optimizer.h).
#include "rl/learner/optimizer.h"

#include <cmath>

#include "core/error.h"
#include "core/torch/tensor_file.h"
#ifdef GRPO_WITH_CUDA
#include "rl/learner/fused_adamw.h"
#endif

namespace grpo::rl {

std::vector<AdamWGroup> make_decay_groups(const std::vector<torch::Tensor>& params, double weight_decay) {
  std::vector<AdamWGroup> groups(2);
  groups[0].weight_decay = weight_decay;
  for (const auto& p : params) groups[p.dim() >= 2 ? 0 : 1].params.push_back(p);
  return groups;
}

AdamW::AdamW(std::vector<AdamWGroup> groups, const AdamWOptions& o) : groups_(std::move(groups)), options_(o) {
  require(o.lr >= 0.0, "optimizer lr: expected a value >= 0, got " + std::to_string(o.lr));
  require(o.beta1 >= 0.0 && o.beta1 < 1.0 && o.beta2 >= 0.0 && o.beta2 < 1.0,
          "optimizer betas: expected values in [0, 1), got " + std::to_string(o.beta1) + ", " +
              std::to_string(o.beta2));
  require(o.eps > 0.0, "optimizer eps: expected a value > 0");
  torch::NoGradGuard no_grad;
  for (const auto& g : groups_) {
    require(g.weight_decay >= 0.0, "optimizer weight_decay: expected a value >= 0, got " + std::to_string(g.weight_decay));
    exp_avg_.emplace_back();
    exp_avg_sq_.emplace_back();
    for (const auto& p : g.params) {
      exp_avg_.back().push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
      exp_avg_sq_.back().push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    }
  }
}

void AdamW::step(const AdamWStep& in) {
  size_t count = 0;
  for (const auto& g : groups_) count += g.params.size();
  require(in.grads.empty() || in.grads.size() == count,
          "AdamW step: " + std::to_string(in.grads.size()) + " gradients for " + std::to_string(count) + " parameters");
  require(in.rounded.empty() || in.rounded.size() == count,
          "AdamW step: " + std::to_string(in.rounded.size()) + " rounded copies for " + std::to_string(count) +
              " parameters");
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2, lr = options_.lr, eps = options_.eps;
  const double bias1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double bias2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
  size_t k = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const double wd = groups_[gi].weight_decay;
    for (size_t i = 0; i < groups_[gi].params.size(); ++i, ++k) {
      auto p = groups_[gi].params[i];
      const auto grad = in.grads.empty() ? p.grad() : in.grads[k];
      const auto rounded = in.rounded.empty() ? torch::Tensor() : in.rounded[k];
      if (!grad.defined()) continue;
      require(grad.numel() == p.numel(), "AdamW step: gradient " + std::to_string(k) + " has " +
                                             std::to_string(grad.numel()) + " elements; its parameter " +
                                             std::to_string(p.numel()));
      auto& m = exp_avg_[gi][i];
      auto& v = exp_avg_sq_[gi][i];
#ifdef GRPO_WITH_CUDA
      if (fused_adamw_applies(p, grad, rounded) && m.is_contiguous() && v.is_contiguous()) {
        fused_adamw_step(p, grad, m, v, rounded, options_, wd, steps_, in.grad_scale);
        continue;
      }
#endif
      auto g = grad.reshape(p.sizes()).to(p.scalar_type());
      if (in.grad_scale != 1.0) g = g * in.grad_scale;
      if (wd != 0.0) p.mul_(1.0 - lr * wd);
      m.mul_(b1).add_(g, 1.0 - b1);
      v.mul_(b2).addcmul_(g, g, 1.0 - b2);
      auto denom = (v.sqrt() / std::sqrt(bias2)).add_(eps);
      p.addcdiv_(m, denom, -lr / bias1);
      if (rounded.defined()) rounded.view(p.sizes()).copy_(p);
    }
  }
}

std::vector<torch::Tensor> AdamW::state() const {
  std::vector<torch::Tensor> tensors{torch::tensor(steps_, torch::kInt64)};
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t i = 0; i < groups_[gi].params.size(); ++i) {
      tensors.push_back(exp_avg_[gi][i]);
      tensors.push_back(exp_avg_sq_[gi][i]);
    }
  return tensors;
}

void AdamW::save(const std::string& path) const { write_tensor_list(path, state()); }

void AdamW::load(const std::string& path) { set_state(read_tensor_list(path, "optimizer state"), path); }

int64_t AdamW::state_bytes() const {
  int64_t bytes = 0;
  for (const auto* moments : {&exp_avg_, &exp_avg_sq_})
    for (const auto& group : *moments)
      for (const auto& m : group) bytes += m.numel() * static_cast<int64_t>(m.element_size());
  return bytes;
}

void AdamW::set_state(const std::vector<torch::Tensor>& tensors, const std::string& source) {
  size_t expected = 1;
  for (const auto& g : groups_) expected += 2 * g.params.size();
  if (tensors.size() != expected)
    throw Error(SourceLocation{source, 0, 0}, "optimizer state holds " + std::to_string(tensors.size()) +
                                                  " tensors; this optimizer expects " + std::to_string(expected) +
                                                  " (step count + two moments per parameter): saved by another model or version?");
  torch::NoGradGuard no_grad;
  size_t k = 1;
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t i = 0; i < groups_[gi].params.size(); ++i)
      for (auto* moments : {&exp_avg_, &exp_avg_sq_}) {
        auto& dst = (*moments)[gi][i];
        const auto& src = tensors[k++];
        if (src.sizes() != dst.sizes())
          throw Error(SourceLocation{source, 0, 0}, "optimizer moment " + std::to_string(k - 1) + " has shape " +
                                                        c10::str(src.sizes()) + "; the parameter has " +
                                                        c10::str(dst.sizes()));
        dst.copy_(src);
      }
  steps_ = tensors[0].item<int64_t>();
}

namespace {

double cosine_lr(int64_t step, const ScheduleOptions& o) {
  require(o.total_steps > o.warmup_steps, "total_steps: the cosine schedule needs total_steps (" +
                                              std::to_string(o.total_steps) + ") > warmup_steps (" +
                                              std::to_string(o.warmup_steps) + ")");
  const double span = static_cast<double>(o.total_steps - o.warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - o.warmup_steps) / span);
  const double min_lr = o.base_lr * o.min_lr_ratio;
  return min_lr + (o.base_lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace

const Registry<LrScheduleFn>& lr_schedules() {
  static const Registry<LrScheduleFn> schedules("lr schedule", {
      {"constant", [](int64_t, const ScheduleOptions& o) { return o.base_lr; }},
      {"cosine", cosine_lr},
  });
  return schedules;
}

double learning_rate_at(int64_t step, const ScheduleOptions& o) {
  require(step >= 0, "schedule step: expected >= 0, got " + std::to_string(step));
  require(o.warmup_steps >= 0, "warmup_steps: expected >= 0, got " + std::to_string(o.warmup_steps));
  require(o.min_lr_ratio >= 0.0 && o.min_lr_ratio <= 1.0,
          "min_lr_ratio: expected a value in [0, 1], got " + std::to_string(o.min_lr_ratio));
  const auto& after_warmup = lr_schedules().get(o.kind);
  if (step < o.warmup_steps)
    return o.base_lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup_steps);
  return after_warmup(step, o);
}

}  // namespace grpo::rl
