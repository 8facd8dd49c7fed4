// A MoE feed-forward for decode with no host reads and static shapes: every routed expert runs on
// every token as one batched matmul over expert weights stacked [E, ...], and each token sums the
// experts' outputs weighted by its routing weights (zero for the experts it did not choose). The
// module's own path (model/moe.cpp) groups tokens by expert, which computes only what is needed
// but slices per expert with counts read on the host: one synchronization per layer and no CUDA
// graph. Here the FLOPs grow by E / K, which decode, bound by reading the weights, can afford for
// the batch sizes of a rollout; the weights are read once either way.
// It holds a copy of the expert weights (refresh() after they change). Experts with biases are
// not supported (supported() says so; DeepSeek checkpoints have none).
#pragma once

#include <torch/torch.h>

#include "model/moe.h"

namespace grpo::rollout {

class DenseExperts {
 public:
  static bool supported(const model::MoeFeedForward& moe);
  explicit DenseExperts(model::MoeFeedForward* moe);  // `moe` must outlive this object
  // Copies the experts' current weights into the stacks, in place.
  void refresh();
  // x: [N, hidden] -> [N, hidden], the module's function (router, routed and shared experts).
  torch::Tensor forward(const torch::Tensor& x);

 private:
  model::MoeFeedForward* moe_;
  int64_t intermediate_;
  torch::Tensor gate_up_;  // [E, 2 * I, hidden]: gate_proj rows, then up_proj rows
  torch::Tensor down_;     // [E, hidden, I]
};

}  // namespace grpo::rollout
