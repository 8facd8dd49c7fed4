// bf16 compute with fp32 master weights. The model's parameters hold the compute dtype (bf16 on
// the GPU) and are what forward/backward use; MasterWeights keeps a float32 copy of each
// trainable parameter for the optimizer: after backward, load_gradients() moves the bf16
// gradients into float32 master gradients, the optimizer steps the masters, and publish()
// writes them back into the model rounded to the compute dtype. The optimizer state lives with
// the masters, in float32. Numerically sensitive ops (RMSNorm statistics, router, softmax) are
// already computed in float32 inside the model. It does not scale losses (bf16 needs none).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/transformer.h"

namespace grpo::model {

class MasterWeights {
 public:
  explicit MasterWeights(CausalLM& model);
  // The float32 masters, in named_parameters() order: hand these to the optimizer.
  std::vector<torch::Tensor>& parameters() { return masters_; }
  // master.grad = float32(param.grad); clears the model's gradients.
  void load_gradients();
  // param = compute_dtype(master), in place (the rollout engine can share the tensors).
  void publish();

 private:
  std::vector<torch::Tensor> params_, masters_;
};

}  // namespace grpo::model
