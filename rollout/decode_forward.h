// One decode step of a CausalLM over the first `rows` cache slots (row b is slot b), one token per
// row, with each slot's cache length read from a device tensor. Nothing goes to or from the host
// and every shape depends only on (rows, key_len), so a CUDA graph can capture the step (see
// decode_graphs.h). It is CausalLM::forward's layer loop without the host-side bookkeeping that
// InferenceCache::begin does, and with each residual add fused with the norm after it
// (model::add_and_norm_: one kernel on CUDA in bf16, the same ops otherwise). MoE layers run the
// module's own grouped path, or every expert densely (moe_decode.h): the module's path reads
// per-expert counts on the host unless a grouped GEMM exists for the dtype and device.
// Not here: sampling, advancing lengths (the caller does both), MTP modules.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <vector>

#include "model/cache.h"
#include "model/rope.h"
#include "model/transformer.h"
#include "rollout/moe_decode.h"

namespace grpo::rollout {

class DecodeForward {
 public:
  // The model and cache must outlive this object; tensors are created on the model's device.
  DecodeForward(model::CausalLM model, model::InferenceCache* cache);

  // tokens: [S] int64, each slot's input token; lengths: [S] int64, each slot's cache length
  // (the new token's position); logits: [S, V] in the model's dtype, rows [0, rows) overwritten.
  // key_len >= max over rows of length + 1 (rows needing fewer keys are masked).
  void run(const torch::Tensor& tokens, const torch::Tensor& lengths, int64_t rows, int64_t key_len,
           torch::Tensor& logits);

  // Routes MoE layers through all_experts_forward (no host reads in any dtype; capturable).
  void use_dense_moe() { dense_moe_ = true; }
  // True when a step reads nothing on the host: capturable.
  bool host_free() const;

 private:
  model::CausalLM model_;
  model::InferenceCache* cache_;
  // 0, 1, ..., n - 1 on the device, made once per n (outside any graph: a bucket's step runs
  // eagerly before it is captured), so a step launches no arange.
  const torch::Tensor& counting(int64_t n, const torch::TensorOptions& options);

  model::RopeFrequencies rope_;  // inv_freq on the model's device
  bool dense_moe_ = false;
  std::map<int64_t, torch::Tensor> counting_;
  torch::Tensor mask_values_;  // {0, -inf} in the compute dtype: the additive mask's two values
};

}  // namespace grpo::rollout
