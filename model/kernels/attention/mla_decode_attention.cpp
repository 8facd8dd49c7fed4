// The LibTorch side of the absorbed MLA decode kernel; see mla_decode_attention.h.
#include "model/kernels/attention/mla_decode_attention.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/kernels/kernel_checks.h"
#include "model/kernels/attention/mla_cache_kernel.h"
#include "model/kernels/attention/mla_decode_kernel.h"

namespace grpo::model {

using kernel_checks::bf16_on;
using kernel_checks::rows_aligned;

bool mla_decode_applies(const torch::Tensor& q_latent, const torch::Tensor& q_rope, const torch::Tensor& cache) {
  if (q_latent.dim() != 4 || q_rope.dim() != 4 || cache.dim() != 3 || q_latent.size(2) != 1) return false;
  const auto device = q_latent.device();
  const int64_t batch = q_latent.size(0), heads = q_latent.size(1), latent = q_latent.size(3), rope = q_rope.size(3);
  return bf16_on(q_latent, device) && bf16_on(q_rope, device) && bf16_on(cache, device) &&
         kernels::mla_decode_supported(static_cast<int>(latent), static_cast<int>(rope), static_cast<int>(heads)) &&
         q_rope.size(0) == batch && q_rope.size(1) == heads && q_rope.size(2) == 1 && q_latent.stride(3) == 1 &&
         q_rope.stride(3) == 1 && cache.size(0) == batch && cache.size(2) == latent + rope && cache.stride(2) == 1 &&
         rows_aligned(q_latent, 2) && rows_aligned(q_rope, 2) && rows_aligned(cache, 2) &&
         cache.size(1) >= 1 && cache.size(1) <= std::numeric_limits<int>::max();
}

torch::Tensor mla_decode_attention(const torch::Tensor& q_latent, const torch::Tensor& q_rope,
                                   const torch::Tensor& cache, const torch::Tensor& positions, double scale) {
  require(mla_decode_applies(q_latent, q_rope, cache),
          "MLA decode attention: expected bf16 CUDA q_latent [B, H, 1, 256|512], q_rope [B, H, 1, 32|64] and latent "
          "cache [B, keys, dc + dr] with H a multiple of 16");
  const auto last = positions.dim() == 2 ? positions.select(1, 0) : positions;
  require(last.scalar_type() == torch::kInt64 && last.dim() == 1 && last.size(0) == q_latent.size(0) &&
              last.device() == q_latent.device(),
          "MLA decode attention: positions must be [B] or [B, 1] int64 on the queries' device");
  const c10::cuda::CUDAGuard guard(q_latent.device());
  const int batch = static_cast<int>(q_latent.size(0)), heads = static_cast<int>(q_latent.size(1));
  const int latent = static_cast<int>(q_latent.size(3));
  auto storage = torch::empty({heads, batch, 1, latent}, q_latent.options());
  auto out = storage.transpose(0, 1);
  if (batch == 0) return out;

  kernels::MlaDecodeArgs a;
  a.q_latent = q_latent.data_ptr();
  a.q_latent_batch_stride = q_latent.stride(0), a.q_latent_head_stride = q_latent.stride(1);
  a.q_rope = q_rope.data_ptr();
  a.q_rope_batch_stride = q_rope.stride(0), a.q_rope_head_stride = q_rope.stride(1);
  a.cache = cache.data_ptr();
  a.cache_batch_stride = cache.stride(0), a.cache_pos_stride = cache.stride(1);
  a.positions = last.data_ptr<int64_t>();
  a.positions_stride = last.stride(0);
  a.batch = batch, a.heads = heads, a.latent_dim = latent, a.rope_dim = static_cast<int>(q_rope.size(3));
  a.key_len = static_cast<int>(cache.size(1));
  a.scale = static_cast<float>(scale);
  a.splits = kernels::mla_decode_splits(batch, heads, a.key_len,
                                        at::cuda::getCurrentDeviceProperties()->multiProcessorCount);
  torch::Tensor workspace;  // partial outputs, when the keys are split
  if (a.splits > 1) {
    workspace = torch::empty(
        {static_cast<int64_t>(kernels::mla_decode_workspace_bytes(batch, heads, latent, a.splits))},
        q_latent.options().dtype(torch::kUInt8));
    a.workspace = workspace.data_ptr();
  }
  a.out = out.data_ptr();
  a.out_batch_stride = out.stride(0), a.out_head_stride = out.stride(1);
  cuda::check_launch(kernels::launch_mla_decode(a, at::cuda::getCurrentCUDAStream()), "MLA decode attention");
  return out;
}

bool mla_rope_cache_write_applies(const torch::Tensor& q, const torch::Tensor& kv, const torch::Tensor& norm_weight,
                                  const torch::Tensor& cos, const torch::Tensor& store) {
  if (q.dim() != 4 || kv.dim() != 3 || cos.dim() != 4 || store.dim() != 3 || q.size(1) != 1 || kv.size(1) != 1)
    return false;
  const auto device = q.device();
  const int64_t batch = q.size(0), rope = cos.size(-1);
  return bf16_on(q, device) && bf16_on(kv, device) && bf16_on(cos, device) && bf16_on(store, device) &&
         q.is_contiguous() && cos.is_contiguous() && cos.numel() == batch * rope && rope % 2 == 0 &&
         q.size(3) > rope && kv.size(0) == batch && kv.size(2) > rope && kv.stride(2) == 1 && store.stride(2) == 1 &&
         store.size(2) == kv.size(2) && bf16_on(norm_weight, device) && norm_weight.is_contiguous() &&
         norm_weight.dim() == 1 && norm_weight.size(0) == kv.size(2) - rope;
}

torch::Tensor mla_rope_and_cache_write(const torch::Tensor& q, const torch::Tensor& kv, const torch::Tensor& norm_weight,
                                       double eps, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                                       bool interleaved, const torch::Tensor& store, const torch::Tensor& slots,
                                       const torch::Tensor& write_rows) {
  require(mla_rope_cache_write_applies(q, kv, norm_weight, cos, store) && signed_sin.sizes() == cos.sizes() &&
              signed_sin.is_contiguous() && signed_sin.scalar_type() == torch::kBFloat16,
          "MLA rope cache write: expected bf16 CUDA q [B, 1, H, nope + rope], kv [B, 1, latent + rope], norm weight "
          "[latent], tables [B, 1, 1, rope] and latent storage");
  const int64_t batch = q.size(0), heads = q.size(2), rope = cos.size(-1), latent = kv.size(2) - rope;
  const auto rows = kernel_checks::write_rows(slots, write_rows, batch, "MLA rope cache write");
  const c10::cuda::CUDAGuard guard(q.device());
  auto q_rope = torch::empty({batch, heads, 1, rope}, q.options());
  kernels::MlaCacheArgs a;
  a.q = q.data_ptr();
  a.kv = kv.data_ptr();
  a.kv_row_stride = kv.stride(0);
  a.norm_weight = norm_weight.data_ptr();
  a.eps = static_cast<float>(eps);
  a.cos = cos.data_ptr();
  a.signed_sin = signed_sin.data_ptr();
  a.interleaved = interleaved;
  a.store = store.data_ptr();
  a.slot_stride = store.stride(0), a.row_stride = store.stride(1);
  a.slots = slots.data_ptr<int64_t>();
  a.write_rows = rows.data_ptr<int64_t>();
  a.write_rows_stride = rows.stride(0);
  a.q_rope_out = q_rope.data_ptr();
  a.batch = static_cast<int>(batch), a.heads = static_cast<int>(heads);
  a.nope_dim = static_cast<int>(q.size(3) - rope), a.rope_dim = static_cast<int>(rope);
  a.latent_dim = static_cast<int>(latent);
  cuda::check_launch(kernels::launch_mla_rope_cache_write(a, at::cuda::getCurrentCUDAStream()), "MLA rope cache write");
  return q_rope;
}

}  // namespace grpo::model
