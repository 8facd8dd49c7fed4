// Gradient norm, clipping and the non-finite guard (see grad_clip.h).
#include "rl/learner/grad_clip.h"

#include <cmath>

namespace grpo::rl {

GradNormReport clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  std::vector<torch::Tensor> squares;
  for (const auto& p : params)
    if (p.grad().defined()) squares.push_back(p.grad().detach().to(torch::kFloat32).norm().square());  // one reduction
  GradNormReport report;
  if (squares.empty()) return report;
  // One host sync for the whole model.
  report.norm = torch::stack(squares).sum().sqrt().item<double>();
  report.finite = std::isfinite(report.norm);
  if (!report.finite || max_norm <= 0.0) return report;
  const double coef = max_norm / (report.norm + 1e-6);
  if (coef < 1.0) {
    torch::NoGradGuard no_grad;
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(coef);
    report.clipped = true;
  }
  return report;
}

StepReport guarded_step(AdamW& optimizer, const std::vector<torch::Tensor>& params, double max_norm, double loss) {
  StepReport report;
  report.grad = clip_grad_norm(params, max_norm);
  report.skipped = !std::isfinite(loss) || !report.grad.finite;
  if (!report.skipped) optimizer.step();
  return report;
}

}  // namespace grpo::rl
