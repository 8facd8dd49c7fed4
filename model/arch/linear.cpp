// A linear layer whose backward adds its weight gradients in place; see linear.h.
#include "model/arch/linear.h"

#include <cmath>

#include "core/torch/gradient_in_place.h"
#include "model/arch/tensor_names.h"

namespace grpo::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// weight_and_bias: {weight} or {weight, bias} (a list because a custom function's tensor
// arguments must be defined).
struct LinearFunction : public torch::autograd::Function<LinearFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, torch::TensorList weight_and_bias) {
    const auto& weight = weight_and_bias[0];
    const auto bias = weight_and_bias.size() > 1 ? weight_and_bias[1] : torch::Tensor();
    ctx->save_for_backward({x, weight, bias});
    return torch::linear(x, weight, bias);
  }

  // The GEMMs of linear's own backward: ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ_rows g.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1], &bias = saved[2];
    const bool has_bias = bias.defined();
    const auto g = grads[0].reshape({-1, weight.size(0)});
    variable_list out(has_bias ? 3 : 2);
    if (ctx->needs_input_grad(0)) out[0] = torch::mm(g, weight).view(x.sizes());
    if (ctx->needs_input_grad(1)) out[1] = accumulate_matmul_gradient(weight, g.t(), x.reshape({-1, weight.size(1)}));
    if (has_bias && ctx->needs_input_grad(2)) out[2] = accumulate_gradient(bias, g.sum(0));
    return out;
  }
};

}  // namespace

LinearImpl::LinearImpl(int64_t in, int64_t out, bool with_bias) {
  weight = register_parameter(names::kWeight, torch::empty({out, in}));
  // torch::nn::Linear's initialisation, in the same order (the same values for one seed).
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (with_bias) {
    bias = register_parameter(names::kBias, torch::empty({out}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  const bool tracked = x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad());
  if (torch::GradMode::is_enabled() && tracked)
    return bias.defined() ? LinearFunction::apply(x, torch::TensorList({weight, bias}))
                          : LinearFunction::apply(x, torch::TensorList(weight));
  return torch::linear(x, weight, bias);
}

}  // namespace grpo::model
