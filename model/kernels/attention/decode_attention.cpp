// The LibTorch side of the decode attention kernel; see decode_attention.h.
#include "model/kernels/attention/decode_attention.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/attention/decode_attention_kernel.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/attention/rope_cache_kernel.h"

namespace grpo::model {
namespace {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;

bool cache_view_ok(const torch::Tensor& t, int64_t head_dim) {
  return t.dim() == 4 && bf16_on(t, t.device()) && t.size(3) == head_dim && t.stride(3) == 1 && rows_aligned(t, 3);
}

}  // namespace

bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values) {
  if (q.dim() != 4 || q.size(2) != 1 || !bf16_on(q, q.device()) || q.stride(3) != 1 || !rows_aligned(q, 2))
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
          "decode attention: expected bf16 CUDA q [B, H, 1, 64|128] and cache views [B, Hkv, T, D] with H/Hkv <= 16");
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

bool rope_cache_write_applies(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& k_store,
                              const torch::Tensor& v_store) {
  const auto device = qkv.device();
  return qkv.dim() == 4 && qkv.size(1) == 1 && bf16_on(qkv, device) && qkv.is_contiguous() && qkv.size(3) % 2 == 0 &&
         cos.dim() == 4 && bf16_on(cos, device) && cos.is_contiguous() && cos.size(-1) == qkv.size(3) &&
         cos.size(0) == qkv.size(0) && cos.numel() == qkv.size(0) * qkv.size(3) && k_store.dim() == 4 &&
         bf16_on(k_store, device) && bf16_on(v_store, device) && k_store.sizes() == v_store.sizes() &&
         k_store.strides() == v_store.strides() && k_store.stride(3) == 1 && k_store.size(3) == qkv.size(3);
}

torch::Tensor rope_and_cache_write(const torch::Tensor& qkv, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                                   const torch::Tensor& k_store, const torch::Tensor& v_store,
                                   const torch::Tensor& slots, const torch::Tensor& write_rows, int64_t heads) {
  require(rope_cache_write_applies(qkv, cos, k_store, v_store) && signed_sin.sizes() == cos.sizes() &&
              signed_sin.is_contiguous() && signed_sin.scalar_type() == torch::kBFloat16,
          "rope cache write: expected bf16 CUDA qkv [B, 1, heads, D], tables [B, 1, 1, D] and cache storage");
  const int64_t batch = qkv.size(0), kv_heads = k_store.size(1), head_dim = qkv.size(3);
  require(qkv.size(2) == heads + 2 * kv_heads, "rope cache write: qkv has " + std::to_string(qkv.size(2)) +
                                                   " heads, expected " + std::to_string(heads + 2 * kv_heads));
  const auto rows = kernel_checks::write_rows(slots, write_rows, batch, "rope cache write");
  const c10::cuda::CUDAGuard guard(qkv.device());
  auto q = torch::empty({batch, heads, 1, head_dim}, qkv.options());
  kernels::RopeCacheArgs a;
  a.qkv = qkv.data_ptr();
  a.cos = cos.data_ptr();
  a.signed_sin = signed_sin.data_ptr();
  a.k_store = k_store.data_ptr();
  a.v_store = v_store.data_ptr();
  a.slot_stride = k_store.stride(0), a.head_stride = k_store.stride(1), a.row_stride = k_store.stride(2);
  a.slots = slots.data_ptr<int64_t>();
  a.write_rows = rows.data_ptr<int64_t>();
  a.write_rows_stride = rows.stride(0);
  a.q_out = q.data_ptr();
  a.batch = static_cast<int>(batch), a.heads = static_cast<int>(heads), a.kv_heads = static_cast<int>(kv_heads);
  a.head_dim = static_cast<int>(head_dim);
  cuda::check_launch(kernels::launch_rope_cache_write(a, at::cuda::getCurrentCUDAStream()), "rope cache write");
  return q;
}

}  // namespace grpo::model
