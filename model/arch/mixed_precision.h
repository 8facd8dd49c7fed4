// The trainable parameters of a model packed into flat buffers, the layout every training stage
// steps. Two groups: [0] matrices (weight decay applies), [1] vectors (norm gains, biases). Each
// group has one float32 master tensor with one float32 gradient, so the optimizer, the gradient
// norm and the clip touch two tensors however many parameters the model has (a MoE's thousands
// of expert matrices included).
//   float32 model: its parameters are views of the masters and their gradients views of the
//     master gradients; nothing is ever copied.
//   bf16 model (GPU training): the parameters and their gradients are views of flat bf16
//     buffers that forward and backward use. A step's gradient stays where backward wrote it,
//     in bf16, when the step had one backward; with more (micro-batches), each earlier one is
//     moved into the float32 master gradients before the next backward, so the sum is taken
//     in float32. The optimizer writes the updated masters, rounded, into the parameters in
//     place (rounded_weights()): a rollout engine sharing them sees the new weights without
//     any reallocation.
// Numerically sensitive ops (RMSNorm statistics, router, softmax) are computed in float32 inside
// the model. ZeRO-1 (keep_shard): a rank keeps the float32 masters of one contiguous shard of
// each group and steps only that; the gradients and the compute-dtype weights stay whole (a
// float32 model's masters are its weights, so only its optimizer moments shrink). Not here: loss
// scaling (bf16 needs none), choosing shards or gathering them across ranks (StageOptimizer).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "model/arch/transformer.h"

namespace grpo::model {

class MasterWeights {
 public:
  // Repacks the model's trainable parameters in place. The masters take the parameters' values
  // as they are (a model loaded in float32 from a float32 checkpoint gives masters with every
  // bit of the checkpoint), then the model is cast to `compute_dtype` (default: the dtype its
  // parameters already have), so a bf16 run starts from exact masters instead of ones rounded
  // to the bf16 grid, where an update of lr 5e-6 moves no weight above ~1e-3 until some 25
  // steps have added up.
  explicit MasterWeights(CausalLM& model, std::optional<torch::Dtype> compute_dtype = std::nullopt);

  // [decayed, plain]: flat float32 leaves. After keep_shard on a mixed model: the shards only.
  const std::vector<torch::Tensor>& masters() const { return masters_; }
  // Elements of group g in the model (whole, whatever this rank keeps).
  int64_t group_numel(size_t g) const { return mixed_ ? compute_[g].numel() : masters_[g].numel(); }

  // ZeRO-1: this rank steps elements [begin, begin + size) of group g only. A mixed model drops
  // the float32 masters outside them (4 bytes a parameter); a float32 model's masters are its
  // weights and stay whole. Call once per group, before any step.
  void keep_shard(size_t g, int64_t begin, int64_t size);
  // The float32 values of group g this rank steps (the optimizer's parameters): the whole
  // master, or its shard after keep_shard; and where they start in the group.
  torch::Tensor owned(size_t g) const;
  int64_t owned_begin(size_t g) const { return owned_begin_[g]; }
  // The model computes in a lower precision than its float32 masters.
  bool mixed() const { return mixed_; }
  // bf16 model: the flat bf16 parameter buffers, one per group, into which each optimizer step
  // writes the updated masters (AdamWStep::rounded). Float32 model: empty.
  const std::vector<torch::Tensor>& rounded_weights() const { return compute_; }

  // loss.backward(), keeping a bf16 model's micro-batches apart: the gradients of an earlier
  // backward move into the float32 master gradients first (copied by the first move after
  // zero_grad(), added by later ones). Every training stage back-propagates through here.
  void backward(const torch::Tensor& loss);
  // The gradient of each group summed over the backwards since zero_grad(): the bf16 buffer
  // itself after one backward (a step of one micro-batch never touches 4 bytes of gradient a
  // parameter), else the float32 master gradient. Zeros when nothing was back-propagated.
  std::vector<torch::Tensor> gradients();
  // Zeroes every gradient (a bf16 model's master gradients: marked empty instead). Never
  // leaves one undefined: the parameters' gradients must stay views.
  void zero_grad();
  // parameters = masters rounded to the compute dtype (bf16 only); load() calls it, and so can
  // code that edits the masters directly. After keep_shard: only the owned elements.
  void publish();

  // The masters' exact values (what a resumed run needs; a saved model holds the rounded ones),
  // whole groups: save() refuses a sharded model (its caller gathers the shards). load() checks
  // the sizes and names the file when they differ, keeps the owned elements as masters and
  // rounds every element into a mixed model's weights.
  void save(const std::string& path) const;
  void load(const std::string& path);

 private:
  std::vector<torch::Tensor> masters_;        // float32 [numel] per group (mixed and sharded: [shard])
  std::vector<torch::Tensor> master_grads_;   // float32 [numel] per group, always whole
  std::vector<int64_t> owned_begin_, owned_size_;  // per group: the elements owned() holds
  std::vector<torch::Tensor> compute_;        // bf16 [numel] per group (mixed only)
  std::vector<torch::Tensor> compute_grads_;  // bf16 [numel] per group (mixed only)
  bool mixed_ = false;
  // Mixed only. The master gradients hold earlier backwards since zero_grad(); the bf16
  // gradient buffers hold the latest backward, not yet moved.
  bool master_grads_hold_sum_ = false;
  bool compute_grads_pending_ = false;

  bool sharded_is(size_t g) const { return owned_size_[g] != group_numel(g); }
  // Moves a pending bf16 backward into the master gradients and zeroes the bf16 buffers.
  void move_pending_gradients();
};

}  // namespace grpo::model
