// The LibTorch side of the split-K expert down projection; see expert_down.h.
#include "model/kernels/moe/expert_down.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/moe/expert_down_kernel.h"

namespace grpo::model {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;

bool expert_down_applies(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& shared_hidden,
                         const torch::Tensor& shared_weight) {
  if (!(hidden.dim() == 3 && weight.dim() == 3 && bf16_on(hidden, hidden.device()) && bf16_on(weight, hidden.device()) &&
        hidden.is_contiguous() && weight.is_contiguous() && rows_aligned(hidden, 2) && rows_aligned(weight, 2) &&
        weight.size(0) == hidden.size(0) && weight.size(2) == hidden.size(2) &&
        hidden.size(1) <= std::numeric_limits<int>::max()))
    return false;
  int64_t shared_inter = 0;
  if (shared_hidden.defined() || shared_weight.defined()) {
    if (!(shared_hidden.defined() && shared_weight.defined() && shared_hidden.dim() == 2 && shared_weight.dim() == 2 &&
          bf16_on(shared_hidden, hidden.device()) && bf16_on(shared_weight, hidden.device()) &&
          shared_hidden.stride(1) == 1 && rows_aligned(shared_hidden, 1) && shared_weight.is_contiguous() &&
          rows_aligned(shared_weight, 1) && shared_hidden.size(0) == hidden.size(1) &&
          shared_weight.size(0) == weight.size(1) && shared_weight.size(1) == shared_hidden.size(1)))
      return false;
    shared_inter = shared_hidden.size(1);
  }
  return kernels::expert_down_supported(static_cast<int>(weight.size(1)), static_cast<int>(weight.size(2)),
                                                 static_cast<int>(shared_inter));
}

torch::Tensor expert_down_partials(const torch::Tensor& hidden, const torch::Tensor& weight,
                                   const torch::Tensor& shared_hidden, const torch::Tensor& shared_weight) {
  require(expert_down_applies(hidden, weight, shared_hidden, shared_weight),
          "expert down projection: expected bf16 CUDA hidden [E, N, I], weight [E, H, I] (H % 256 == 0, I % 32 == 0) "
          "and optional shared hidden [N, Is] and weight [H, Is] (Is % 32 == 0)");
  const c10::cuda::CUDAGuard guard(hidden.device());
  kernels::ExpertDownArgs a;
  a.hidden = hidden.data_ptr();
  a.weight = weight.data_ptr();
  a.experts = static_cast<int>(hidden.size(0)), a.tokens = static_cast<int>(hidden.size(1));
  a.inter = static_cast<int>(hidden.size(2)), a.features = static_cast<int>(weight.size(1));
  if (shared_hidden.defined()) {
    a.shared_hidden = shared_hidden.data_ptr();
    a.shared_hidden_stride = shared_hidden.stride(0);
    a.shared_weight = shared_weight.data_ptr();
    a.shared_inter = static_cast<int>(shared_hidden.size(1));
  }
  a.splits = kernels::expert_down_splits(a.tokens, a.features, a.inter, a.experts, a.shared_inter,
                                         at::cuda::getCurrentDeviceProperties()->multiProcessorCount);
  auto partials = torch::empty({a.splits, a.tokens, a.features}, hidden.options().dtype(torch::kFloat32));
  a.partials = partials.data_ptr<float>();
  cuda::check_launch(kernels::launch_expert_down(a, at::cuda::getCurrentCUDAStream()), "expert down projection");
  return partials;
}

}  // namespace grpo::model
