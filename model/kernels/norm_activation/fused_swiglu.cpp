// The autograd function around the SwiGLU kernels; see fused_swiglu.h.
#include "model/kernels/norm_activation/fused_swiglu.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/norm_activation/swiglu_kernel.h"

namespace grpo::model {
namespace {

using kernel_checks::rows_of;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

kernels::SwigluType kernel_type(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 ? kernels::SwigluType::kBFloat16 : kernels::SwigluType::kFloat32;
}

// The forward kernel into a new [..., I] tensor; row_scale null or one float32 per row.
torch::Tensor swiglu_forward(const torch::Tensor& gate_up, const float* row_scale) {
  const c10::cuda::CUDAGuard guard(gate_up.device());
  const int64_t inter = gate_up.size(-1) / 2;
  auto sizes = gate_up.sizes().vec();
  sizes.back() = inter;
  auto out = torch::empty(sizes, gate_up.options());
  cuda::check_launch(kernels::launch_swiglu_forward(gate_up.data_ptr(), out.data_ptr(), rows_of(gate_up), inter,
                                                    kernel_type(gate_up), at::cuda::getCurrentCUDAStream(), row_scale),
                     "fused swiglu forward");
  return out;
}

struct FusedSwigluFunction : public torch::autograd::Function<FusedSwigluFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor gate_up) {
    ctx->save_for_backward({gate_up});
    return swiglu_forward(gate_up, nullptr);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto gate_up = ctx->get_saved_variables()[0];
    const auto grad_out = grads[0].contiguous();
    const c10::cuda::CUDAGuard guard(gate_up.device());
    auto grad = torch::empty_like(gate_up);
    cuda::check_launch(kernels::launch_swiglu_backward(gate_up.data_ptr(), grad_out.data_ptr(), grad.data_ptr(),
                                                       rows_of(gate_up), gate_up.size(-1) / 2, kernel_type(gate_up),
                                                       at::cuda::getCurrentCUDAStream()),
                       "fused swiglu backward");
    return {grad};
  }
};

}  // namespace

bool fused_swiglu_applies(const torch::Tensor& gate_up) {
  const auto dtype = gate_up.scalar_type();
  return gate_up.is_cuda() && (dtype == torch::kBFloat16 || dtype == torch::kFloat32) && gate_up.dim() >= 1 &&
         gate_up.size(-1) % 2 == 0 && gate_up.is_contiguous();
}

torch::Tensor fused_swiglu(const torch::Tensor& gate_up) {
  require(fused_swiglu_applies(gate_up), "fused swiglu: expected a contiguous float32 or bf16 CUDA tensor [..., 2I]");
  return FusedSwigluFunction::apply(gate_up);
}

torch::Tensor fused_swiglu_scaled(const torch::Tensor& gate_up, const torch::Tensor& row_scale) {
  require(fused_swiglu_applies(gate_up), "fused swiglu: expected a contiguous float32 or bf16 CUDA tensor [..., 2I]");
  const int64_t rows = rows_of(gate_up);
  require(row_scale.scalar_type() == torch::kFloat32 && row_scale.is_contiguous() && row_scale.numel() == rows &&
              row_scale.device() == gate_up.device(),
          "fused swiglu: row_scale must be contiguous float32 with " + std::to_string(rows) + " values on the device");
  return swiglu_forward(gate_up, row_scale.data_ptr<float>());
}

}  // namespace grpo::model
