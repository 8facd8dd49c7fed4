// The autograd function around the training RMSNorm kernels; see fused_rms_norm.h.
#include "model/kernels/norm_activation/fused_rms_norm.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/norm_activation/rms_norm_kernel.h"

namespace grpo::model {
namespace {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;
using kernel_checks::rows_of;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

kernels::RmsNormArgs norm_args(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& rstd) {
  kernels::RmsNormArgs a;
  a.x = static_cast<const uint16_t*>(x.data_ptr());
  a.weight = static_cast<const uint16_t*>(weight.data_ptr());
  a.rows = rows_of(x);
  a.hidden = static_cast<int>(x.size(-1));
  a.rstd = rstd.data_ptr<float>();
  return a;
}

struct FusedRmsNormFunction : public torch::autograd::Function<FusedRmsNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    auto out = torch::empty_like(x);
    auto rstd = torch::empty({rows_of(x)}, x.options().dtype(torch::kFloat32));
    auto a = norm_args(x, weight, rstd);
    a.eps = static_cast<float>(eps);
    a.out = static_cast<uint16_t*>(out.data_ptr());
    const c10::cuda::CUDAGuard guard(x.device());
    cuda::check_launch(kernels::launch_rms_norm_forward(a, at::cuda::getCurrentCUDAStream()), "RMSNorm forward");
    ctx->save_for_backward({x, weight, rstd});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1], &rstd = saved[2];
    const auto grad_out = grads[0].to(torch::kBFloat16).contiguous();
    auto grad_x = torch::empty_like(x);
    auto partials = torch::empty({kernels::rms_norm_backward_blocks(rows_of(x)), x.size(-1)},
                                 x.options().dtype(torch::kFloat32));
    auto a = norm_args(x, weight, rstd);
    a.grad_out = static_cast<const uint16_t*>(grad_out.data_ptr());
    a.grad_x = static_cast<uint16_t*>(grad_x.data_ptr());
    a.weight_partials = partials.data_ptr<float>();
    const c10::cuda::CUDAGuard guard(x.device());
    cuda::check_launch(kernels::launch_rms_norm_backward(a, at::cuda::getCurrentCUDAStream()), "RMSNorm backward");
    return {grad_x, partials.sum(0).to(weight.scalar_type()), torch::Tensor()};
  }
};

}  // namespace

bool fused_rms_norm_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.dim() >= 1 && bf16_on(x, x.device()) && x.is_contiguous() && x.size(-1) % 8 == 0 &&
         x.size(-1) <= kernels::kRmsNormMaxHidden && rows_aligned(x, x.dim() - 1) && weight.dim() == 1 &&
         weight.size(0) == x.size(-1) && bf16_on(weight, x.device()) && weight.is_contiguous();
}

torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  require(fused_rms_norm_applies(x, weight),
          "fused RMSNorm: expected contiguous bf16 CUDA x [..., hidden] (hidden % 8 == 0, <= 8192) and weight [hidden]");
  return FusedRmsNormFunction::apply(x, weight, eps);
}

}  // namespace grpo::model
