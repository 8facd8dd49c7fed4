// The LibTorch side of the fused gate/up kernel; see expert_gate_up.h.
#include "model/kernels/moe/expert_gate_up.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/moe/expert_gate_up_kernel.h"

namespace grpo::model {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;

bool expert_gate_up_applies(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& combine,
                            const torch::Tensor& shared_weight) {
  if (!(x.dim() == 2 && weight.dim() == 3 && combine.dim() == 2 && bf16_on(x, x.device()) &&
        bf16_on(weight, x.device()) && x.stride(1) == 1 && rows_aligned(x, 1) && weight.is_contiguous() &&
        rows_aligned(weight, 2) &&
        combine.device() == x.device() && combine.scalar_type() == torch::kFloat32 && combine.is_contiguous() &&
        weight.size(2) == x.size(1) && weight.size(1) % 2 == 0 && combine.size(0) == weight.size(0) &&
        combine.size(1) == x.size(0) && x.size(0) <= std::numeric_limits<int>::max()))
    return false;
  int64_t shared_inter = 0;
  if (shared_weight.defined()) {
    if (!(shared_weight.dim() == 2 && bf16_on(shared_weight, x.device()) && shared_weight.is_contiguous() &&
          rows_aligned(shared_weight, 1) &&
          shared_weight.size(1) == x.size(1) && shared_weight.size(0) % 2 == 0))
      return false;
    shared_inter = shared_weight.size(0) / 2;
  }
  return kernels::expert_gate_up_supported(static_cast<int>(x.size(1)), static_cast<int>(weight.size(1) / 2),
                                           static_cast<int>(weight.size(0)), static_cast<int>(shared_inter));
}

ExpertActivations expert_gate_up(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& combine,
                                 const torch::Tensor& shared_weight) {
  require(expert_gate_up_applies(x, weight, combine, shared_weight),
          "expert gate/up projection: expected bf16 CUDA x [N, H], weight [E, 2I, H] and optional shared weight "
          "[2Is, H] (H % 128 == 0, H <= 1536, I and Is multiples of 8), float32 combine [E, N]");
  const c10::cuda::CUDAGuard guard(x.device());
  kernels::ExpertGateUpArgs a;
  a.x = x.data_ptr();
  a.x_stride = x.stride(0);
  a.weight = weight.data_ptr();
  a.combine = combine.data_ptr<float>();
  a.tokens = static_cast<int>(x.size(0)), a.features = static_cast<int>(x.size(1));
  a.inter = static_cast<int>(weight.size(1) / 2), a.experts = static_cast<int>(weight.size(0));
  ExpertActivations out;
  out.hidden = torch::empty({weight.size(0), x.size(0), weight.size(1) / 2}, x.options());
  a.hidden = out.hidden.data_ptr();
  if (shared_weight.defined()) {
    a.shared_weight = shared_weight.data_ptr();
    a.shared_inter = static_cast<int>(shared_weight.size(0) / 2);
    out.shared_hidden = torch::empty({x.size(0), a.shared_inter}, x.options());
    a.shared_hidden = out.shared_hidden.data_ptr();
  }
  cuda::check_launch(kernels::launch_expert_gate_up(a, at::cuda::getCurrentDeviceProperties()->multiProcessorCount,
                                                    at::cuda::getCurrentCUDAStream()),
                     "expert gate/up projection");
  return out;
}

}  // namespace grpo::model
