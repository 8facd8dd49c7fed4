// Attention of one new token per row over a KV cache, on CUDA in bf16, with a plain-C++ interface
// (no LibTorch types) so that nvcc compiles it without the LibTorch headers.
//
// Row b's query heads h = kv·G + g (g < G, the GQA group) attend keys [0, positions[b]] of cache
// head kv, each cache row read once for all G query heads and straight from the cache's strided
// storage: no gathered or repeated copy of K and V, no mask tensor. The G heads are the rows of
// m16n8k16 tensor-core MMAs (scores and P·V per 32-key tile staged in shared memory), as in
// mla_decode_kernel.h. Keys are split into ranges
// (flash-decoding) so that few long rows still fill the GPU: blocks (kv, b, split) write
// unnormalized partial outputs with their max and sum, and a second kernel merges the splits
// (with one split, the only kernel writes the output).
// Scores, softmax and the output accumulate in float32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace grpo::model::kernels {

struct DecodeAttentionArgs {
  const void* q = nullptr;  // [B, H, D] bf16, dim stride 1, 16-byte aligned rows
  int64_t q_batch_stride = 0, q_head_stride = 0;
  const void* k = nullptr;  // [B, Hkv, >= key_len, D] bf16, dim stride 1
  int64_t k_batch_stride = 0, k_head_stride = 0, k_pos_stride = 0;
  const void* v = nullptr;  // like k
  int64_t v_batch_stride = 0, v_head_stride = 0, v_pos_stride = 0;
  const int64_t* positions = nullptr;  // [B] (element stride positions_stride): the last key of row b
  int64_t positions_stride = 1;
  int batch = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int key_len = 0;  // keys that exist; positions beyond are clamped to key_len - 1
  float scale = 1.f;
  int splits = 1;           // from decode_attention_splits
  void* workspace = nullptr;  // decode_attention_workspace_bytes(...); unused with one split
  void* out = nullptr;      // [B, H, D] bf16, contiguous
};

// head_dim 64 or 128 and at most 16 query heads per kv head.
bool decode_attention_supported(int head_dim, int groups);
int decode_attention_splits(int batch, int kv_heads, int key_len, int multiprocessors);
size_t decode_attention_workspace_bytes(int batch, int heads, int head_dim, int splits);
cudaError_t launch_decode_attention(const DecodeAttentionArgs& args, cudaStream_t stream);

}  // namespace grpo::model::kernels
