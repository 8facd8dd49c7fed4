// Recompute-in-backward through torch::autograd::Function; see activation_checkpoint.h.
#include "model/arch/activation_checkpoint.h"

#include <torch/csrc/autograd/custom_function.h>

namespace grpo::model {
namespace {

// The closure travels in the autograd context as an IValue capsule (no class registration needed).
struct FnHolder : torch::CustomClassHolder {
  explicit FnHolder(CheckpointedFn f) : fn(std::move(f)) {}
  CheckpointedFn fn;
};

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                                                const c10::intrusive_ptr<FnHolder>& holder) {
    ctx->save_for_backward({input});
    ctx->saved_data["fn"] = c10::IValue::make_capsule(holder);
    return holder->fn(input, false);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto input = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    auto holder = c10::static_intrusive_pointer_cast<FnHolder>(ctx->saved_data["fn"].toCapsule());
    std::vector<torch::Tensor> outputs;
    {
      torch::AutoGradMode enable(true);
      outputs = holder->fn(input, true);
    }
    std::vector<torch::Tensor> roots, root_grads;
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (!outputs[i].requires_grad() || !grads[i].defined()) continue;
      roots.push_back(outputs[i]);
      root_grads.push_back(grads[i]);
    }
    if (!roots.empty()) torch::autograd::backward(roots, root_grads);
    auto input_grad = input.grad().defined() ? input.grad() : torch::zeros_like(input);
    return {input_grad, torch::Tensor()};
  }
};

}  // namespace

std::vector<torch::Tensor> checkpoint(const CheckpointedFn& fn, const torch::Tensor& input) {
  // A custom function's outputs require grad only when an input does. Under a frozen embedding
  // (LoRA's base) the first layer's input does not, so the adapters inside every checkpointed layer
  // would get no gradient at all: take the input as a leaf that requires one (transformers'
  // enable_input_require_grads does the same for PEFT with gradient checkpointing).
  const bool needs_leaf = torch::GradMode::is_enabled() && !input.requires_grad();
  return CheckpointFunction::apply(needs_leaf ? input.detach().requires_grad_(true) : input,
                                   c10::make_intrusive<FnHolder>(fn));
}

}  // namespace grpo::model
