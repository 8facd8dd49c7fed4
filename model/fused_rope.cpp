// The autograd function around the RoPE rotation kernel; see fused_rope.h.
#include "model/fused_rope.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/rope_rotate_kernel.h"

namespace grpo::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// in -> a new tensor, rotated forward or backward.
torch::Tensor rotate(const torch::Tensor& in, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                     int64_t rotated_heads, bool backward) {
  auto out = torch::empty_like(in);
  kernels::RopeRotateArgs a;
  a.in = in.data_ptr();
  a.cos = cos.data_ptr();
  a.signed_sin = signed_sin.data_ptr();
  a.out = out.data_ptr();
  a.tokens = in.size(0) * in.size(1);
  a.heads = static_cast<int>(in.size(2));
  a.rotated_heads = static_cast<int>(rotated_heads);
  a.head_dim = static_cast<int>(in.size(3));
  a.backward = backward;
  const c10::cuda::CUDAGuard guard(in.device());
  cuda::check_launch(kernels::launch_rope_rotate(a, at::cuda::getCurrentCUDAStream()),
                     backward ? "fused RoPE backward" : "fused RoPE forward");
  return out;
}

struct FusedRopeFunction : public torch::autograd::Function<FusedRopeFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& qkv, const torch::Tensor& cos,
                               const torch::Tensor& signed_sin, int64_t rotated_heads) {
    ctx->save_for_backward({cos, signed_sin});
    ctx->saved_data["rotated_heads"] = rotated_heads;
    return rotate(qkv, cos, signed_sin, rotated_heads, false);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto grad = grads[0].contiguous();
    return {rotate(grad, saved[0], saved[1], ctx->saved_data["rotated_heads"].toInt(), true), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

bool table_for(const torch::Tensor& table, const torch::Tensor& qkv) {
  return table.dim() == 4 && table.device() == qkv.device() && table.scalar_type() == torch::kBFloat16 &&
         table.is_contiguous() && table.size(0) == qkv.size(0) && table.size(1) == qkv.size(1) && table.size(2) == 1 &&
         table.size(3) == qkv.size(3) && !table.requires_grad();
}

}  // namespace

bool fused_rope_applies(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin) {
  return qkv.dim() == 4 && qkv.is_cuda() && qkv.scalar_type() == torch::kBFloat16 && qkv.is_contiguous() &&
         qkv.size(3) % 16 == 0 && reinterpret_cast<uintptr_t>(qkv.data_ptr()) % 16 == 0 && cos.defined() &&
         signed_sin.defined() && table_for(cos, qkv) && table_for(signed_sin, qkv);
}

torch::Tensor fused_rope(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                         int64_t rotated_heads) {
  require(fused_rope_applies(qkv, cos, signed_sin),
          "fused RoPE: expected contiguous bf16 CUDA qkv [B, T, heads, D] (D % 16 == 0) and [B, T, 1, D] bf16 tables");
  require(rotated_heads >= 0 && rotated_heads <= qkv.size(2), "fused RoPE: rotated_heads out of range");
  return FusedRopeFunction::apply(qkv, cos, signed_sin, rotated_heads);
}

}  // namespace grpo::model
