// Gradients added into param.grad() by the backward itself; see gradient_in_place.h.
#include "core/torch/gradient_in_place.h"

namespace grpo {
namespace {

// The parameter has a dense gradient buffer of its own shape and dtype, and no graph is being
// recorded through the backward (create_graph needs the gradient as a graph node).
bool has_gradient_buffer(const torch::Tensor& param) {
  if (torch::GradMode::is_enabled()) return false;
  const auto& g = param.grad();
  return g.defined() && g.layout() == torch::kStrided && g.sizes() == param.sizes() &&
         g.scalar_type() == param.scalar_type();
}

}  // namespace

torch::Tensor accumulate_matmul_gradient(const torch::Tensor& param, const torch::Tensor& a, const torch::Tensor& b) {
  if (!has_gradient_buffer(param) || a.scalar_type() != param.scalar_type()) return torch::mm(a, b);
  auto buffer = param.grad();  // a handle on the same storage: the add lands in the buffer
  buffer.addmm_(a, b);
  return {};
}

torch::Tensor accumulate_gradient(const torch::Tensor& param, const torch::Tensor& gradient) {
  if (!has_gradient_buffer(param)) return gradient;
  auto buffer = param.grad();
  buffer.add_(gradient);
  return {};
}

}  // namespace grpo
