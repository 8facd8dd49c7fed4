// The MLA decode step's new token, from the projections to attention's inputs, in one CUDA
// kernel: RMSNorm of its KV latent (kv_a_layernorm), RoPE of its shared key part and of every
// head's query rope part (half-rotation or interleaved layout, as apply_rope), and the latent
// cache write of [normalized latent | roped key], instead of about a dozen kernels per layer
// (norm, rolls, products, sums, a concatenation and an indexed write). Plain-C++ interface (no
// LibTorch types) so that nvcc compiles it without the LibTorch headers. RoPE products and sums
// round to bf16 as apply_rope's tensor ops do; the norm rounds x·rstd·weight once, as the fused
// CUDA RMSNorm does.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct MlaCacheArgs {
  const void* q = nullptr;  // [B, H, nope + rope] bf16, contiguous: the query projection
  const void* kv = nullptr;  // [B, latent + rope] bf16, row stride kv_row_stride, dim stride 1
  int64_t kv_row_stride = 0;
  const void* norm_weight = nullptr;  // [latent] bf16
  float eps = 1e-6f;
  const void* cos = nullptr;         // [B, rope] bf16, contiguous (rope_cos_sin's table)
  const void* signed_sin = nullptr;  // [B, rope] bf16, first half negated
  bool interleaved = false;          // pairs (2j, 2j+1), gathered into halves first
  void* store = nullptr;  // latent cache storage [slots, rows, latent + rope] bf16, dim stride 1
  int64_t slot_stride = 0, row_stride = 0;
  const int64_t* slots = nullptr;       // [B]
  const int64_t* write_rows = nullptr;  // [B] (element stride write_rows_stride)
  int64_t write_rows_stride = 1;
  void* q_rope_out = nullptr;  // [B, H, rope] bf16, contiguous
  int batch = 0, heads = 0, nope_dim = 0, rope_dim = 0, latent_dim = 0;
};

cudaError_t launch_mla_rope_cache_write(const MlaCacheArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
