// The model's linear layer, y = x·Wᵀ + b, with Hugging Face's parameter names (weight [out, in],
// bias [out]) and torch::nn::Linear's initialisation. Under autograd its backward adds the weight
// and bias gradients into their gradient buffers itself (core/torch/gradient_in_place.h): the
// weight gradient's GEMM accumulates into MasterWeights' flat buffer, where torch::nn::Linear's
// would return a temporary that autograd then adds in one more pass over the weight's size.
// Without autograd it is exactly torch::linear.
// It may carry LoRA adapters (model/lora/lora_adapters.h attaches them), each on a range of output
// rows: the whole layer, or one checkpoint tensor's rows of a fused one (q_proj's part of
// qkv_proj). While enabled they add dropout(x)·Aᵀ·Bᵀ·scaling to those rows; dropout applies only
// under autograd in training mode, so rollouts and scoring are deterministic.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace grpo::model {

// A low-rank adapter on output rows [row_offset, row_offset + b.size(0)) of a Linear.
struct LoraSlice {
  std::string name;  // the checkpoint's module name, e.g. model.layers.0.self_attn.q_proj
  int64_t row_offset = 0;
  torch::Tensor a;  // [rank, in], a registered parameter of the Linear
  torch::Tensor b;  // [rows, rank], likewise
  double scaling = 1.0;
  double dropout = 0.0;
};

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in, int64_t out, bool bias);
  torch::Tensor forward(const torch::Tensor& x);  // [..., in] -> [..., out]

  // Registers the slice's a and b as parameters lora_A_<leaf>, lora_B_<leaf> (leaf: the last part
  // of slice.name) and applies the adapter from then on. Slices must not overlap.
  void add_lora(LoraSlice slice);
  const std::vector<LoraSlice>& lora() const { return lora_; }
  // Off: forward is the base layer alone (the KL reference; see LoraDisabled).
  void set_lora_enabled(bool on) { lora_enabled_ = on; }
  bool lora_enabled() const { return lora_enabled_; }

  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out], or undefined

 private:
  // The adapters' output [..., out] (zero on rows without one).
  torch::Tensor lora_delta(const torch::Tensor& x);
  std::vector<LoraSlice> lora_;  // by row_offset
  bool lora_enabled_ = true;
};
TORCH_MODULE(Linear);

}  // namespace grpo::model
