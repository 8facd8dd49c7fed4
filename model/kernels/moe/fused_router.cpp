// The LibTorch side of the fused router kernel; see fused_router.h.
#include "model/kernels/moe/fused_router.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/moe/router_kernel.h"

namespace grpo::model {

bool fused_router_applies(RouterImpl& router, const torch::Tensor& x) {
  const auto& w = router.weight;
  return x.dim() == 2 && x.is_cuda() && x.scalar_type() == torch::kBFloat16 && x.stride(1) == 1 &&
         x.stride(0) % 8 == 0 && reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 == 0 && w.device() == x.device() &&
         w.scalar_type() == torch::kBFloat16 && w.is_contiguous() && w.size(1) == x.size(1) &&
         x.size(0) <= std::numeric_limits<int>::max() && !router.rule().group_limited &&
         kernels::router_supported(static_cast<int>(x.size(1)), static_cast<int>(w.size(0)),
                                   static_cast<int>(router.rule().top_k));
}

torch::Tensor fused_router_combine(RouterImpl& router, const torch::Tensor& x) {
  require(fused_router_applies(router, x),
          "fused router: expected bf16 CUDA x [N, hidden] and router weight, a router without group limits");
  const c10::cuda::CUDAGuard guard(x.device());
  const auto rule = router.rule();
  const int64_t tokens = x.size(0), experts = router.weight.size(0);
  auto combine = torch::empty({experts, tokens}, x.options().dtype(torch::kFloat32));
  torch::Tensor bias;  // float32 on the device, as the module adds it
  if (router.e_score_correction_bias.defined() && rule.sigmoid)
    bias = router.e_score_correction_bias.to(x.device(), torch::kFloat32).contiguous();
  kernels::RouterArgs a;
  a.x = x.data_ptr();
  a.x_row_stride = x.stride(0);
  a.weight = router.weight.data_ptr();
  a.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
  a.tokens = static_cast<int>(tokens), a.hidden = static_cast<int>(x.size(1)), a.experts = static_cast<int>(experts);
  a.top_k = static_cast<int>(rule.top_k);
  a.sigmoid = rule.sigmoid, a.normalize = rule.normalize;
  a.scaling = static_cast<float>(rule.scaling);
  a.combine = combine.data_ptr<float>();
  cuda::check_launch(kernels::launch_router(a, at::cuda::getCurrentCUDAStream()), "fused router");
  return combine;
}

}  // namespace grpo::model
