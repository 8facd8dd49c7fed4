// The decode step's new token, from the fused q/k/v projection to attention's inputs, in one
// CUDA kernel: RoPE on its q and k heads (half-rotation layout, full head width) and k, v written
// into the cache, instead of a roll, two products, a sum and two indexed writes per layer.
// Plain-C++ interface (no LibTorch types) so that nvcc compiles it without the LibTorch headers.
// Each product and the sum round to bf16 as the unfused tensor ops do, so the results are the
// same bits as apply_rope followed by the cache's index_put.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::model::kernels {

struct RopeCacheArgs {
  const void* qkv = nullptr;  // [B, H + 2·Hkv, D] bf16, contiguous (q heads, then k, then v)
  const void* cos = nullptr;  // [B, D] bf16, contiguous (rope_cos_sin's table for the token)
  const void* signed_sin = nullptr;  // [B, D] bf16, first half negated
  void* k_store = nullptr;    // cache storage [slots, Hkv, rows, D] bf16, dim stride 1
  void* v_store = nullptr;
  int64_t slot_stride = 0, head_stride = 0, row_stride = 0;  // the same for k_store and v_store
  const int64_t* slots = nullptr;      // [B]: cache slot of each batch row
  const int64_t* write_rows = nullptr;  // [B] (element stride write_rows_stride): cache row to write
  int64_t write_rows_stride = 1;
  void* q_out = nullptr;  // [B, H, D] bf16, contiguous: the rotated queries
  int batch = 0, heads = 0, kv_heads = 0, head_dim = 0;
};

cudaError_t launch_rope_cache_write(const RopeCacheArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
