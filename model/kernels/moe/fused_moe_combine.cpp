// The autograd function around the MoE combine kernels; see fused_moe_combine.h.
#include "model/kernels/moe/fused_moe_combine.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/moe/moe_combine_kernel.h"

namespace grpo::model {
namespace {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

kernels::MoeCombineArgs combine_args(const torch::Tensor& rows, const torch::Tensor& weights,
                                     const torch::Tensor& row_of_pair, const torch::Tensor& pair_of_row) {
  kernels::MoeCombineArgs a;
  a.rows = static_cast<const uint16_t*>(rows.data_ptr());
  a.weights = weights.data_ptr<float>();
  a.row_of_pair = row_of_pair.data_ptr<int64_t>();
  a.pair_of_row = pair_of_row.data_ptr<int64_t>();
  a.tokens = weights.size(0);
  a.k = static_cast<int>(weights.size(1));
  a.row_count = rows.size(0);
  a.hidden = static_cast<int>(rows.size(1));
  return a;
}

struct FusedMoeCombineFunction : public torch::autograd::Function<FusedMoeCombineFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rows, const torch::Tensor& weights,
                               const torch::Tensor& row_of_pair, const torch::Tensor& pair_of_row) {
    ctx->save_for_backward({rows, weights, row_of_pair, pair_of_row});
    auto out = torch::empty({weights.size(0), rows.size(1)}, rows.options());
    auto a = combine_args(rows, weights, row_of_pair, pair_of_row);
    a.out = static_cast<uint16_t*>(out.data_ptr());
    const c10::cuda::CUDAGuard guard(rows.device());
    cuda::check_launch(kernels::launch_moe_combine_forward(a, at::cuda::getCurrentCUDAStream()), "MoE combine forward");
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &rows = saved[0], &weights = saved[1];
    const auto grad_out = grads[0].to(torch::kBFloat16).contiguous();
    auto grad_rows = torch::empty_like(rows);
    auto grad_weights = torch::empty_like(weights);
    auto a = combine_args(rows, weights, saved[2], saved[3]);
    a.grad_out = static_cast<const uint16_t*>(grad_out.data_ptr());
    a.grad_rows = static_cast<uint16_t*>(grad_rows.data_ptr());
    a.grad_weights = grad_weights.data_ptr<float>();
    const c10::cuda::CUDAGuard guard(rows.device());
    cuda::check_launch(kernels::launch_moe_combine_backward(a, at::cuda::getCurrentCUDAStream()), "MoE combine backward");
    return {grad_rows, grad_weights, torch::Tensor(), torch::Tensor()};
  }
};

bool int64_on(const torch::Tensor& t, const torch::Device& device, int64_t numel) {
  return t.is_cuda() && t.device() == device && t.scalar_type() == torch::kInt64 && t.is_contiguous() &&
         t.numel() == numel;
}

}  // namespace

bool fused_moe_combine_applies(const torch::Tensor& rows, const torch::Tensor& weights,
                               const torch::Tensor& row_of_pair, const torch::Tensor& pair_of_row) {
  if (!(rows.dim() == 2 && bf16_on(rows, rows.device()) && rows.is_contiguous() && rows.size(1) % 8 == 0 &&
        rows_aligned(rows, 1)))
    return false;
  const auto device = rows.device();
  return weights.dim() == 2 && weights.device() == device && weights.scalar_type() == torch::kFloat32 &&
         int64_on(row_of_pair, device, weights.numel()) && int64_on(pair_of_row, device, rows.size(0));
}

torch::Tensor fused_moe_combine(const torch::Tensor& rows, const torch::Tensor& weights,
                                const torch::Tensor& row_of_pair, const torch::Tensor& pair_of_row) {
  require(fused_moe_combine_applies(rows, weights, row_of_pair, pair_of_row),
          "fused MoE combine: expected bf16 CUDA rows [R, H] (H % 8 == 0), float32 weights [N, K], int64 "
          "row_of_pair [N*K] and pair_of_row [R] on one device");
  return FusedMoeCombineFunction::apply(rows, weights.contiguous(), row_of_pair, pair_of_row);
}

}  // namespace grpo::model
