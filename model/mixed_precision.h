// The trainable parameters of a model packed into flat buffers, the layout every training stage
// steps. Two groups: [0] matrices (weight decay applies), [1] vectors (norm gains, biases). Each
// group has one float32 master tensor with one float32 gradient, so the optimizer, the gradient
// norm and the clip touch two tensors however many parameters the model has (a MoE's thousands
// of expert matrices included).
//   float32 model: its parameters are views of the masters and their gradients views of the
//     master gradients; nothing is ever copied.
//   bf16 model (GPU training): the parameters and their gradients are views of flat bf16
//     buffers that forward and backward use. accumulate_gradients() adds the bf16 gradients of
//     one backward into the float32 master gradients (so micro-batches accumulate in float32),
//     and publish() rounds the masters into the parameters in place: a rollout engine sharing
//     the parameters sees the new weights without any reallocation.
// Numerically sensitive ops (RMSNorm statistics, router, softmax) are computed in float32 inside
// the model. Not here: loss scaling (bf16 needs none), sharding masters across ranks.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/transformer.h"

namespace grpo::model {

class MasterWeights {
 public:
  // Repacks the model's trainable parameters in place (their values are kept).
  explicit MasterWeights(CausalLM& model);

  // [decayed, plain]: flat float32 leaves whose .grad is always defined. With a bf16 model their
  // gradients are current only after accumulate_gradients() or settle_gradients() (zero_grad()
  // marks them empty instead of writing zeros).
  const std::vector<torch::Tensor>& masters() const { return masters_; }
  // The model computes in a lower precision than its float32 masters.
  bool mixed() const { return mixed_; }

  // After each backward: moves the parameters' gradients into the master gradients (bf16;
  // nothing to do in float32, where they are the same memory). The first backward after
  // zero_grad() copies, later ones add, so a step of one micro-batch never reads or zeroes the
  // float32 gradients (two passes over 4 bytes a parameter).
  void accumulate_gradients();
  // Before reading the master gradients: zeroes them when no backward was accumulated since
  // zero_grad() (a bf16 model's master gradients still hold the last step's values then).
  void settle_gradients();
  // Zeroes every gradient (a bf16 model's master gradients: marked empty, see above). Never
  // leaves one undefined: the parameters' gradients must stay views.
  void zero_grad();
  // After each optimizer step: parameters = masters rounded to the compute dtype (bf16 only).
  void publish();

  // The masters' exact values (what a resumed run needs; a saved model holds the rounded ones).
  // load() checks the sizes and names the file when they differ, then publishes.
  void save(const std::string& path) const;
  void load(const std::string& path);

 private:
  std::vector<torch::Tensor> masters_;        // float32 [numel] per group
  std::vector<torch::Tensor> compute_;        // bf16 [numel] per group (mixed only)
  std::vector<torch::Tensor> compute_grads_;  // bf16 [numel] per group (mixed only)
  bool mixed_ = false;
  bool master_grads_hold_sum_ = false;  // mixed: the master gradients hold the backwards since zero_grad()
};

}  // namespace grpo::model
