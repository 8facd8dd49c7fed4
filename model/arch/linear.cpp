// A linear layer whose backward adds its weight gradients in place; see linear.h.
#include "model/arch/linear.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

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
  torch::Tensor y;
  // A frozen layer (a LoRA base) takes torch::linear, whose backward keeps x only where the weight
  // needs a gradient.
  const bool trains = weight.requires_grad() || (bias.defined() && bias.requires_grad());
  if (torch::GradMode::is_enabled() && trains)
    y = bias.defined() ? LinearFunction::apply(x, torch::TensorList({weight, bias}))
                       : LinearFunction::apply(x, torch::TensorList(weight));
  else
    y = torch::linear(x, weight, bias);
  if (lora_.empty() || !lora_enabled_) return y;
  return y + lora_delta(x);
}

void LinearImpl::add_lora(LoraSlice slice) {
  const int64_t out = weight.size(0), in = weight.size(1);
  const int64_t rows = slice.b.size(0), end = slice.row_offset + rows;
  require(slice.a.dim() == 2 && slice.a.size(1) == in && slice.b.dim() == 2 && slice.b.size(1) == slice.a.size(0) &&
              slice.row_offset >= 0 && end <= out,
          "LoRA adapter '" + slice.name + "': A " + c10::str(slice.a.sizes()) + " and B " + c10::str(slice.b.sizes()) +
              " at row " + std::to_string(slice.row_offset) + " do not fit a [" + std::to_string(out) + ", " +
              std::to_string(in) + "] layer");
  for (const auto& other : lora_)
    require(end <= other.row_offset || slice.row_offset >= other.row_offset + other.b.size(0),
            "LoRA adapters '" + slice.name + "' and '" + other.name + "' overlap");
  const auto leaf = slice.name.substr(slice.name.rfind('.') + 1);
  slice.a = register_parameter("lora_A_" + leaf, slice.a);
  slice.b = register_parameter("lora_B_" + leaf, slice.b);
  lora_.push_back(std::move(slice));
  std::sort(lora_.begin(), lora_.end(), [](const LoraSlice& l, const LoraSlice& r) { return l.row_offset < r.row_offset; });
}

torch::Tensor LinearImpl::lora_delta(const torch::Tensor& x) {
  auto gap = [&x](int64_t rows) {
    auto sizes = x.sizes().vec();
    sizes.back() = rows;
    return torch::zeros(sizes, x.options());
  };
  const bool drop = is_training() && torch::GradMode::is_enabled();
  std::vector<torch::Tensor> pieces;
  int64_t row = 0;
  for (const auto& s : lora_) {
    if (s.row_offset > row) pieces.push_back(gap(s.row_offset - row));
    const auto input = drop && s.dropout > 0 ? torch::dropout(x, s.dropout, true) : x;
    pieces.push_back(torch::linear(torch::linear(input, s.a), s.b) * s.scaling);
    row = s.row_offset + s.b.size(0);
  }
  if (row < weight.size(0)) pieces.push_back(gap(weight.size(0) - row));
  return pieces.size() == 1 ? pieces.front() : torch::cat(pieces, -1);
}

}  // namespace grpo::model
