// The autograd function around the RoPE rotation kernel; see fused_rope.h.
#include "model/kernels/attention/fused_rope.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/attention/rope_rotate_kernel.h"

namespace grpo::model {
namespace {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A [B, T, h, D] tensor as the kernel reads or writes it.
kernels::RopePart part_of(const torch::Tensor& t) {
  kernels::RopePart p;
  p.data = t.data_ptr();
  p.batch_stride = t.stride(0);
  p.token_stride = t.stride(1);
  p.head_stride = t.stride(2);
  p.heads = static_cast<int>(t.size(2));
  return p;
}

// The kernel reads and writes each part's rows of D channels with 16-byte accesses.
bool part_readable(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 && t.stride(3) == 1 && rows_aligned(t, 3);
}

void launch(const torch::Tensor& combined, const std::vector<torch::Tensor>& parts, const torch::Tensor& cos,
            const torch::Tensor& signed_sin, bool backward) {
  kernels::RopeRotateArgs a;
  a.combined = combined.data_ptr();
  for (int i = 0; i < 3; ++i) a.parts[i] = part_of(parts[i]);
  a.cos = cos.data_ptr();
  a.signed_sin = signed_sin.data_ptr();
  a.batch = combined.size(0);
  a.seq = combined.size(1);
  a.head_dim = static_cast<int>(combined.size(3));
  a.backward = backward;
  const c10::cuda::CUDAGuard guard(combined.device());
  cuda::check_launch(kernels::launch_rope_rotate(a, at::cuda::getCurrentCUDAStream()),
                     backward ? "fused RoPE backward" : "fused RoPE forward");
}

struct FusedRopeSplitFunction : public torch::autograd::Function<FusedRopeSplitFunction> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& qkv, const torch::Tensor& cos,
                               const torch::Tensor& signed_sin, int64_t heads, int64_t kv_heads) {
    ctx->save_for_backward({cos, signed_sin});
    const int64_t b = qkv.size(0), t = qkv.size(1), d = qkv.size(3);
    variable_list parts;
    for (int64_t h : {heads, kv_heads, qkv.size(2) - heads - kv_heads})
      parts.push_back(torch::empty({b, t, h, d}, qkv.options()));
    launch(qkv, parts, cos, signed_sin, false);
    return parts;
  }

  // The gradients arrive in attention's backward layouts: an unaligned one is copied, an
  // undefined one (a part nothing used) is zeros.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& cos = saved[0];
    const int64_t b = cos.size(0), t = cos.size(1), d = cos.size(3);
    std::vector<torch::Tensor> parts;
    int64_t total_heads = 0;
    for (const auto& g : grads) {
      require(g.defined(), "fused RoPE backward: a part's gradient is undefined");
      parts.push_back(part_readable(g) ? g : g.to(torch::kBFloat16).contiguous());
      total_heads += g.size(2);
    }
    auto combined = torch::empty({b, t, total_heads, d}, cos.options());
    launch(combined, parts, cos, saved[1], true);
    return {combined, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

bool table_for(const torch::Tensor& table, const torch::Tensor& qkv) {
  return table.dim() == 4 && bf16_on(table, qkv.device()) && table.is_contiguous() && table.size(0) == qkv.size(0) &&
         table.size(1) == qkv.size(1) && table.size(2) == 1 && table.size(3) == qkv.size(3) && !table.requires_grad();
}

}  // namespace

bool fused_rope_applies(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin) {
  return qkv.dim() == 4 && bf16_on(qkv, qkv.device()) && qkv.is_contiguous() && qkv.size(3) % 16 == 0 &&
         rows_aligned(qkv, 3) && cos.defined() && signed_sin.defined() && table_for(cos, qkv) &&
         table_for(signed_sin, qkv);
}

std::vector<torch::Tensor> fused_rope_split(const torch::Tensor& qkv, const torch::Tensor& cos,
                                            const torch::Tensor& signed_sin, int64_t heads, int64_t kv_heads) {
  require(fused_rope_applies(qkv, cos, signed_sin),
          "fused RoPE: expected contiguous bf16 CUDA qkv [B, T, heads, D] (D % 16 == 0) and [B, T, 1, D] bf16 tables");
  require(heads >= 0 && kv_heads >= 0 && heads + kv_heads <= qkv.size(2), "fused RoPE: head counts out of range");
  return FusedRopeSplitFunction::apply(qkv, cos, signed_sin, heads, kv_heads);
}

}  // namespace grpo::model
