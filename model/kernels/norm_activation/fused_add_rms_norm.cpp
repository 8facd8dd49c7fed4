// The LibTorch side of the residual add + RMSNorm kernel; see fused_add_rms_norm.h.
#include "model/kernels/norm_activation/fused_add_rms_norm.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/norm_activation/add_rms_norm_kernel.h"
#include "model/kernels/kernel_checks.h"

namespace grpo::model {
namespace {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;
using kernel_checks::rows_of;

// The stride between consecutive rows when t's leading dims flatten to one dim of rows, or -1
// when they do not; size-1 dims are skipped (a decode step's [rows, 1, hidden]).
int64_t row_stride(const torch::Tensor& t) {
  int64_t stride = t.size(-1), outer = -1;  // outer: the stride the next non-trivial dim must have
  for (int64_t d = t.dim() - 2; d >= 0; --d) {
    if (t.size(d) == 1) continue;
    if (outer < 0) stride = t.stride(d);
    else if (t.stride(d) != outer) return -1;
    outer = t.stride(d) * t.size(d);
  }
  return stride;
}

// The checks on residual and weight that both forms share.
bool residual_applies(const torch::Tensor& residual, const torch::Tensor& weight) {
  if (residual.dim() < 1) return false;
  const auto device = residual.device();
  const int64_t hidden = residual.size(-1);
  if (!bf16_on(residual, device) || !bf16_on(weight, device) || weight.dim() != 1 || weight.size(0) != hidden ||
      !weight.is_contiguous() || hidden > std::numeric_limits<int>::max() ||
      !kernels::add_rms_norm_supported(static_cast<int>(hidden)))
    return false;
  if (torch::GradMode::is_enabled() && (residual.requires_grad() || weight.requires_grad())) return false;
  const int64_t residual_stride = row_stride(residual);
  return residual.stride(-1) == 1 && (residual_stride >= hidden || rows_of(residual) <= 1) &&
         rows_aligned(residual, residual.dim() - 1) && rows_aligned(weight, 0);
}

// Launches the kernel on args whose delta (or partials) the caller set.
torch::Tensor launch(torch::Tensor& residual, const torch::Tensor& weight, double eps, kernels::AddRmsNormArgs a) {
  const c10::cuda::CUDAGuard guard(residual.device());
  auto out = torch::empty(residual.sizes(), residual.options());
  a.residual = residual.data_ptr();
  a.residual_stride = row_stride(residual);
  a.weight = weight.data_ptr();
  a.out = out.data_ptr();
  a.out_stride = residual.size(-1);
  a.eps = static_cast<float>(eps);
  a.rows = rows_of(residual);
  a.hidden = static_cast<int>(residual.size(-1));
  cuda::check_launch(kernels::launch_add_rms_norm(a, at::cuda::getCurrentCUDAStream()), "fused add + rms_norm");
  return out;
}

}  // namespace

bool fused_add_rms_norm_applies(const torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight) {
  if (!residual_applies(residual, weight)) return false;
  if (torch::GradMode::is_enabled() && delta.requires_grad()) return false;
  return bf16_on(delta, residual.device()) && delta.sizes() == residual.sizes() && delta.stride(-1) == 1 &&
         row_stride(delta) >= 0 && rows_aligned(delta, delta.dim() - 1);
}

torch::Tensor fused_add_rms_norm_(torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight,
                                  double eps) {
  require(fused_add_rms_norm_applies(residual, delta, weight),
          "fused add + rms_norm: expected bf16 CUDA residual and delta of one shape [..., hidden] (rows 16-byte "
          "aligned, hidden a multiple of 8 up to 16384), a contiguous bf16 weight [hidden], and no autograd");
  kernels::AddRmsNormArgs a;
  a.delta = delta.data_ptr();
  a.delta_stride = row_stride(delta);
  return launch(residual, weight, eps, a);
}

bool fused_add_sum_rms_norm_applies(const torch::Tensor& residual, const torch::Tensor& partials,
                                    const torch::Tensor& weight) {
  if (!residual_applies(residual, weight)) return false;
  if (torch::GradMode::is_enabled() && partials.requires_grad()) return false;
  return partials.is_cuda() && partials.device() == residual.device() && partials.scalar_type() == torch::kFloat32 &&
         partials.dim() == 3 && partials.is_contiguous() && partials.size(1) == rows_of(residual) &&
         partials.size(2) == residual.size(-1) && partials.size(0) >= 1 &&
         partials.size(0) <= std::numeric_limits<int>::max() &&
         reinterpret_cast<uintptr_t>(partials.data_ptr()) % 16 == 0;
}

torch::Tensor fused_add_sum_rms_norm_(torch::Tensor& residual, const torch::Tensor& partials,
                                      const torch::Tensor& weight, double eps) {
  require(fused_add_sum_rms_norm_applies(residual, partials, weight),
          "fused add + rms_norm: expected a bf16 CUDA residual [..., hidden] (rows 16-byte aligned, hidden a multiple "
          "of 8 up to 16384), contiguous float32 partials [S, rows, hidden], a contiguous bf16 weight [hidden], and "
          "no autograd");
  kernels::AddRmsNormArgs a;
  a.partials = partials.data_ptr<float>();
  a.partial_stride = partials.size(1) * partials.size(2);
  a.partial_count = static_cast<int>(partials.size(0));
  return launch(residual, weight, eps, a);
}

}  // namespace grpo::model
