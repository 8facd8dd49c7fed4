// The LibTorch side of the decode attention kernel; see decode_attention.h.
#include "model/decode_attention.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/decode_attention_kernel.h"

namespace grpo::model {
namespace {

// Rows of 8 bf16 (16 bytes) start aligned: the kernel reads keys with 16-byte loads.
bool cache_view_ok(const torch::Tensor& t, int64_t head_dim) {
  return t.dim() == 4 && t.scalar_type() == torch::kBFloat16 && t.is_cuda() && t.size(3) == head_dim &&
         t.stride(3) == 1 && t.stride(0) % 8 == 0 && t.stride(1) % 8 == 0 && t.stride(2) % 8 == 0 &&
         reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
}

}  // namespace

bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values) {
  if (q.dim() != 4 || q.size(2) != 1 || !q.is_cuda() || q.scalar_type() != torch::kBFloat16 || q.stride(3) != 1)
    return false;
  const int64_t heads = q.size(1), kv_heads = keys.size(1), head_dim = q.size(3);
  return kv_heads > 0 && heads % kv_heads == 0 &&
         kernels::decode_attention_supported(static_cast<int>(head_dim), static_cast<int>(heads / kv_heads)) &&
         cache_view_ok(keys, head_dim) && cache_view_ok(values, head_dim) && keys.sizes() == values.sizes() &&
         keys.size(0) == q.size(0) && keys.size(2) <= std::numeric_limits<int>::max() &&
         keys.device() == q.device() && values.device() == q.device();
}

torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values,
                               const torch::Tensor& positions, double scale) {
  require(decode_attention_applies(q, keys, values),
          "decode attention: expected bf16 CUDA q [B, H, 1, 64|128] and cache views [B, Hkv, T, D] with H/Hkv <= 8");
  const auto last = positions.dim() == 2 ? positions.select(1, 0) : positions;
  require(last.scalar_type() == torch::kInt64 && last.dim() == 1 && last.size(0) == q.size(0) &&
              last.device() == q.device(),
          "decode attention: positions must be [B] or [B, 1] int64 on the queries' device");
  const c10::cuda::CUDAGuard guard(q.device());
  const int batch = static_cast<int>(q.size(0)), heads = static_cast<int>(q.size(1));
  const int kv_heads = static_cast<int>(keys.size(1)), head_dim = static_cast<int>(q.size(3));
  const int key_len = static_cast<int>(keys.size(2));
  auto out = torch::empty({batch, heads, 1, head_dim}, q.options());
  if (batch == 0) return out;

  kernels::DecodeAttentionArgs a;
  a.q = q.data_ptr();
  a.q_batch_stride = q.stride(0);
  a.q_head_stride = q.stride(1);
  a.k = keys.data_ptr();
  a.k_batch_stride = keys.stride(0), a.k_head_stride = keys.stride(1), a.k_pos_stride = keys.stride(2);
  a.v = values.data_ptr();
  a.v_batch_stride = values.stride(0), a.v_head_stride = values.stride(1), a.v_pos_stride = values.stride(2);
  a.positions = last.data_ptr<int64_t>();
  a.positions_stride = last.stride(0);
  a.batch = batch, a.heads = heads, a.kv_heads = kv_heads, a.head_dim = head_dim;
  a.key_len = key_len;
  a.scale = static_cast<float>(scale);
  a.splits = kernels::decode_attention_splits(batch, kv_heads, key_len,
                                              at::cuda::getCurrentDeviceProperties()->multiProcessorCount);
  torch::Tensor workspace;  // partial outputs, when the keys are split
  if (a.splits > 1) {
    workspace = torch::empty(
        {static_cast<int64_t>(kernels::decode_attention_workspace_bytes(batch, heads, head_dim, a.splits))},
        q.options().dtype(torch::kUInt8));
    a.workspace = workspace.data_ptr();
  }
  a.out = out.data_ptr();
  cuda::check_launch(kernels::launch_decode_attention(a, at::cuda::getCurrentCUDAStream()), "decode attention");
  return out;
}

}  // namespace grpo::model
