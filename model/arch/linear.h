// The model's linear layer, y = x·Wᵀ + b, with Hugging Face's parameter names (weight [out, in],
// bias [out]) and torch::nn::Linear's initialisation. Under autograd its backward adds the weight
// and bias gradients into their gradient buffers itself (core/torch/gradient_in_place.h): the
// weight gradient's GEMM accumulates into MasterWeights' flat buffer, where torch::nn::Linear's
// would return a temporary that autograd then adds in one more pass over the weight's size.
// Without autograd it is exactly torch::linear.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in, int64_t out, bool bias);
  torch::Tensor forward(const torch::Tensor& x);  // [..., in] -> [..., out]

  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out], or undefined
};
TORCH_MODULE(Linear);

}  // namespace grpo::model
