// Absorbed multi-head latent attention of one new token per row over the latent cache, on CUDA in
// bf16, with a plain-C++ interface (no LibTorch types) so that nvcc compiles it without the
// LibTorch headers.
//
// With W_UK folded into the query (see mla.h), every head of a row attends the same cached
// entries c_j = [latent_j | rope key_j]: score_hj = q_h · c_j over dc + dr dims, and the output is
// sum_j p_hj latent_j over dc dims (W_UV is applied afterwards). That is multi-query attention
// with 16-head groups, so the kernel runs it on tensor cores: per 64-key tile, one m16n8k16 MMA
// chain per 8 keys for the scores and one per 8 output dims for P·V, with the tile staged once
// in shared memory for both, the next tiles' copies in flight meanwhile. Keys are split into
// ranges (flash-decoding) as in decode_attention_kernel.h only where the rows alone leave
// multiprocessors idle and a range keeps at least 256 keys; scores, softmax and outputs
// accumulate in float32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace grpo::model::kernels {

struct MlaDecodeArgs {
  const void* q_latent = nullptr;  // [B, H, dc] bf16, dim stride 1: W_UK^T q_nope per head
  int64_t q_latent_batch_stride = 0, q_latent_head_stride = 0;
  const void* q_rope = nullptr;  // [B, H, dr] bf16, dim stride 1: the roped query part
  int64_t q_rope_batch_stride = 0, q_rope_head_stride = 0;
  const void* cache = nullptr;  // [B, >= key_len, dc + dr] bf16, dim stride 1: [latent | rope key]
  int64_t cache_batch_stride = 0, cache_pos_stride = 0;
  const int64_t* positions = nullptr;  // [B] (element stride positions_stride): the last key of row b
  int64_t positions_stride = 1;
  int batch = 0, heads = 0, latent_dim = 0, rope_dim = 0;
  int key_len = 0;  // keys that exist; positions beyond are clamped to key_len - 1
  float scale = 1.f;
  int splits = 1;             // from mla_decode_splits
  void* workspace = nullptr;  // mla_decode_workspace_bytes(...); unused with one split
  void* out = nullptr;        // [B, H, dc] bf16, dim stride 1
  int64_t out_batch_stride = 0, out_head_stride = 0;
};

// (dc, dr) = (256, 32) or (512, 64) (DeepSeek-V2/V3 and the small MoE/MLA shapes), heads a
// multiple of 16.
bool mla_decode_supported(int latent_dim, int rope_dim, int heads);
int mla_decode_splits(int batch, int heads, int key_len, int multiprocessors);
size_t mla_decode_workspace_bytes(int batch, int heads, int latent_dim, int splits);
cudaError_t launch_mla_decode(const MlaDecodeArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
