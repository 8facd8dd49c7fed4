// The LibTorch side of the optimizer-step kernels; see fused_adamw.h.
#include "rl/learner/fused_adamw.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <cmath>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "rl/learner/adamw_kernel.h"

namespace grpo::rl {
namespace {

bool bf16_or_float(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kFloat32;
}

}  // namespace

bool fused_adamw_applies(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& rounded) {
  const bool rounded_ok = !rounded.defined() || (rounded.scalar_type() == torch::kBFloat16 && rounded.is_contiguous() &&
                                                 rounded.numel() == param.numel() && rounded.device() == param.device());
  return param.is_cuda() && param.scalar_type() == torch::kFloat32 && param.is_contiguous() && grad.defined() &&
         bf16_or_float(grad) && grad.is_contiguous() && grad.numel() == param.numel() &&
         grad.device() == param.device() && rounded_ok;
}

void fused_adamw_step(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                      const torch::Tensor& exp_avg_sq, const torch::Tensor& rounded, const AdamWOptions& o,
                      double weight_decay, int64_t step, double grad_scale) {
  require(fused_adamw_applies(param, grad, rounded), "fused AdamW: unsupported parameter, gradient or rounded copy");
  require(exp_avg.is_contiguous() && exp_avg_sq.is_contiguous() && exp_avg.scalar_type() == torch::kFloat32 &&
              exp_avg_sq.scalar_type() == torch::kFloat32 && exp_avg.numel() == param.numel() &&
              exp_avg_sq.numel() == param.numel(),
          "fused AdamW: the moments must be contiguous float32 tensors shaped like the parameter");
  kernels::AdamWStepArgs a;
  a.param = param.data_ptr<float>();
  a.exp_avg = exp_avg.data_ptr<float>();
  a.exp_avg_sq = exp_avg_sq.data_ptr<float>();
  a.grad = grad.data_ptr();
  a.grad_bf16 = grad.scalar_type() == torch::kBFloat16;
  a.rounded = rounded.defined() ? static_cast<uint16_t*>(rounded.data_ptr()) : nullptr;
  a.n = param.numel();
  a.grad_scale = static_cast<float>(grad_scale);
  a.lr = static_cast<float>(o.lr);
  a.beta1 = static_cast<float>(o.beta1);
  a.beta2 = static_cast<float>(o.beta2);
  a.weight_decay = static_cast<float>(weight_decay);
  a.eps = static_cast<float>(o.eps);
  a.bias_correction1 = static_cast<float>(1.0 - std::pow(o.beta1, static_cast<double>(step)));
  a.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(o.beta2, static_cast<double>(step))));
  const c10::cuda::CUDAGuard guard(param.device());
  cuda::check_launch(kernels::launch_adamw_step(a, at::cuda::getCurrentCUDAStream()), "fused AdamW");
}

bool sum_of_squares_applies(const torch::Tensor& x) { return x.is_cuda() && bf16_or_float(x) && x.is_contiguous(); }

torch::Tensor sum_of_squares(const torch::Tensor& x) {
  require(sum_of_squares_applies(x), "sum of squares: expected a contiguous bf16 or float32 CUDA tensor");
  auto partials = torch::empty({kernels::sum_of_squares_blocks(x.numel())}, x.options().dtype(torch::kFloat32));
  const c10::cuda::CUDAGuard guard(x.device());
  cuda::check_launch(kernels::launch_sum_of_squares(x.data_ptr(), x.scalar_type() == torch::kBFloat16, x.numel(),
                                                    partials.data_ptr<float>(), at::cuda::getCurrentCUDAStream()),
                     "sum of squares");
  return partials.sum();
}

}  // namespace grpo::rl
