// The LibTorch side of the MoE row layout kernel; see fused_expert_layout.h.
#include "model/kernels/moe/fused_expert_layout.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/moe/expert_layout_kernel.h"

namespace grpo::model {

bool fused_expert_layout_applies(const torch::Tensor& experts, int64_t num_experts) {
  return experts.is_cuda() && experts.scalar_type() == torch::kInt64 && experts.dim() == 1 &&
         experts.is_contiguous() && num_experts > 0 && num_experts <= kernels::kExpertLayoutMaxExperts;
}

ExpertLayout fused_expert_layout(const torch::Tensor& experts, int64_t num_experts, int64_t top_k, int64_t align) {
  require(fused_expert_layout_applies(experts, num_experts),
          "fused expert layout: expected contiguous int64 CUDA expert ids [pairs] and 1..256 experts");
  const int64_t pairs = experts.size(0), rows = pairs + num_experts * (align - 1);
  ExpertLayout out;
  out.row_of_pair = torch::empty({pairs}, experts.options());
  out.token_of_row = torch::empty({rows}, experts.options());
  out.pair_of_row = torch::empty({rows, 1}, experts.options());
  out.ends = torch::empty({num_experts}, experts.options().dtype(torch::kInt32));
  kernels::ExpertLayoutArgs a;
  a.experts = experts.data_ptr<int64_t>();
  a.pairs = pairs;
  a.rows = rows;
  a.num_experts = static_cast<int>(num_experts);
  a.top_k = static_cast<int>(top_k);
  a.align = static_cast<int>(align);
  a.row_of_pair = out.row_of_pair.data_ptr<int64_t>();
  a.token_of_row = out.token_of_row.data_ptr<int64_t>();
  a.pair_of_row = out.pair_of_row.data_ptr<int64_t>();
  a.ends = out.ends.data_ptr<int32_t>();
  const c10::cuda::CUDAGuard guard(experts.device());
  cuda::check_launch(kernels::launch_expert_layout(a, at::cuda::getCurrentCUDAStream()), "expert layout");
  return out;
}

}  // namespace grpo::model
