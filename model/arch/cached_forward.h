// The two host-free forwards of a CausalLM over its InferenceCache that the rollout engine runs:
// a decode step (one token per row, row b is slot b, each slot's cache length read from a device
// tensor) and a prefill (whole prompts written into any slots from position 0). Nothing goes to
// or from the host and every shape depends only on (rows, key_len) or (rows, len), so a CUDA
// graph can capture either (rollout/bucket_graphs.h). Both run the model's one layer loop
// (CausalLMImpl::run_layers) with fused residual norms, and without the host-side bookkeeping
// that InferenceCache::begin does (the caller keeps the slots' lengths). MoE layers run the
// module's own grouped path, or in a decode step every expert densely (moe_decode.h): the
// module's path reads per-expert counts on the host unless a grouped GEMM exists for the dtype
// and device.
// Not here: sampling, advancing lengths (the caller does both), MTP modules, autograd (grad mode
// must be off).
#pragma once

#include <torch/torch.h>

#include <map>

#include "model/arch/rope.h"
#include "model/arch/transformer.h"
#include "model/cache/cache.h"

namespace grpo::model {

// A prefill batch's inputs as views of one flat int64 tensor, so that one host copy fills them
// all: token ids [rows, len], valid [rows, len] (1 = a real token; a row's real tokens are a
// prefix of it), each row's cache slot [rows] and the index of its last real token [rows]. A row
// with no real token (padding of a graph bucket) writes only its slot's scratch row.
struct PrefillInputs {
  torch::Tensor ids, valid, slots, last;
  static int64_t numel(int64_t rows, int64_t len) { return 2 * rows * (len + 1); }
  static PrefillInputs view(const torch::Tensor& flat, int64_t rows, int64_t len);
};

class CachedForward {
 public:
  // The model and cache must outlive this object; tensors are created on the model's device.
  CachedForward(CausalLM model, InferenceCache* cache);

  // tokens: [S] int64, each slot's input token; lengths: [S] int64, each slot's cache length
  // (the new token's position); logits: [S, V] in the model's dtype, rows [0, rows) overwritten.
  // key_len >= max over rows of length + 1 (rows needing fewer keys are masked).
  void decode(const torch::Tensor& tokens, const torch::Tensor& lengths, int64_t rows, int64_t key_len,
              torch::Tensor& logits);

  // Writes each row's prompt into its slot's cache rows [0, len) (the slots' previous contents
  // are ignored: attention sees only this call's tokens) and the final-norm hidden state of its
  // last real token into last_hidden [>= rows, hidden] (model dtype), rows [0, rows).
  void prefill(const PrefillInputs& in, torch::Tensor& last_hidden);

  // Decode steps run MoE layers through all_experts_partials (no host reads in any dtype; capturable).
  void use_dense_moe() { dense_moe_ = true; }
  // True when a decode step, or a prefill, reads nothing on the host: capturable.
  bool decode_host_free() const { return dense_moe_ || moe_modules_host_free(); }
  bool prefill_host_free() const { return moe_modules_host_free(); }

 private:
  bool moe_modules_host_free() const;
  // The additive attention mask [rows, 1, T, key_len] of `positions` [rows, T]: 0 where the key's
  // position is <= the query's, -inf after it.
  torch::Tensor causal_mask(const torch::Tensor& positions, int64_t key_len, torch::Dtype dtype);
  // The context of one step over `step`, its RoPE tables in `dtype`.
  ForwardContext context(const CacheStep& step, int64_t key_len, torch::Dtype dtype);
  // 0, 1, ..., n - 1 on the device, made once per n (outside any graph: a bucket's step runs
  // eagerly before it is captured), so a step launches no arange.
  const torch::Tensor& counting(int64_t n, const torch::TensorOptions& options);

  CausalLM model_;
  InferenceCache* cache_;
  RopeFrequencies rope_;  // inv_freq on the model's device
  bool dense_moe_ = false;
  std::map<int64_t, torch::Tensor> counting_;
  torch::Tensor mask_values_;  // {0, -inf} in the compute dtype: the additive mask's two values
};

}  // namespace grpo::model
