// Gradient norm, clipping and the non-finite guard (see grad_clip.h).
#include "rl/learner/grad_clip.h"

#include <cmath>

#ifdef GRPO_WITH_CUDA
#include "rl/learner/fused_adamw.h"
#endif

namespace grpo::rl {
namespace {

torch::Tensor squared_norm(const torch::Tensor& grad) {
#ifdef GRPO_WITH_CUDA
  if (sum_of_squares_applies(grad)) return sum_of_squares(grad);  // no float32 copy of a bf16 gradient
#endif
  return grad.detach().to(torch::kFloat32).norm().square();
}

}  // namespace

GradNormReport measure_grad_norm(const std::vector<torch::Tensor>& grads, double max_norm, double loss_scale) {
  std::vector<torch::Tensor> squares;
  for (const auto& g : grads)
    if (g.defined()) squares.push_back(squared_norm(g));
  GradNormReport report;
  if (squares.empty()) return report;
  report.norm = torch::stack(squares).sum().sqrt().item<double>() / loss_scale;
  report.finite = std::isfinite(report.norm);
  if (!report.finite || max_norm <= 0.0) return report;
  const double coef = max_norm / (report.norm + 1e-6);
  if (coef < 1.0) {
    report.scale = coef;
    report.clipped = true;
  }
  return report;
}

StepReport guarded_step(AdamW& optimizer, AdamWStep inputs, double max_norm, double loss, double loss_scale,
                        const std::vector<torch::Tensor>& norm_over) {
  if (inputs.grads.empty())
    for (const auto& group : optimizer.groups())
      for (const auto& p : group.params) inputs.grads.push_back(p.grad());
  StepReport report;
  report.grad = measure_grad_norm(norm_over.empty() ? inputs.grads : norm_over, max_norm, loss_scale);
  report.skipped = !std::isfinite(loss) || !report.grad.finite;
  if (!report.skipped) {
    inputs.grad_scale = report.grad.scale / loss_scale;
    optimizer.step(inputs);
  }
  return report;
}

}  // namespace grpo::rl
