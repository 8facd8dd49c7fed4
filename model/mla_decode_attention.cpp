// The LibTorch side of the absorbed MLA decode kernel; see mla_decode_attention.h.
#include "model/mla_decode_attention.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "model/mla_decode_kernel.h"

namespace grpo::model {
namespace {

bool bf16_on(const torch::Tensor& t, const torch::Device& device) {
  return t.is_cuda() && t.device() == device && t.scalar_type() == torch::kBFloat16;
}

}  // namespace

bool mla_decode_applies(const torch::Tensor& q_latent, const torch::Tensor& q_rope, const torch::Tensor& cache) {
  if (q_latent.dim() != 4 || q_rope.dim() != 4 || cache.dim() != 3 || q_latent.size(2) != 1) return false;
  const auto device = q_latent.device();
  const int64_t batch = q_latent.size(0), heads = q_latent.size(1), latent = q_latent.size(3), rope = q_rope.size(3);
  return bf16_on(q_latent, device) && bf16_on(q_rope, device) && bf16_on(cache, device) &&
         kernels::mla_decode_supported(static_cast<int>(latent), static_cast<int>(rope), static_cast<int>(heads)) &&
         q_rope.size(0) == batch && q_rope.size(1) == heads && q_rope.size(2) == 1 && q_latent.stride(3) == 1 &&
         q_rope.stride(3) == 1 && cache.size(0) == batch && cache.size(2) == latent + rope && cache.stride(2) == 1 &&
         cache.stride(0) % 8 == 0 && cache.stride(1) % 8 == 0 && reinterpret_cast<uintptr_t>(cache.data_ptr()) % 16 == 0 &&
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

}  // namespace grpo::model
