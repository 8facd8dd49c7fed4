// Dense batched-expert MoE for decode; see moe_decode.h.
#include "rollout/moe_decode.h"

#include "core/error.h"

namespace grpo::rollout {
namespace {

model::MlpImpl& expert(const model::MoeFeedForward& moe, size_t e) { return *moe.experts->ptr(e)->as<model::MlpImpl>(); }

}  // namespace

bool DenseExperts::supported(const model::MoeFeedForward& moe) {
  if (moe.experts->size() == 0) return false;
  const auto& first = expert(moe, 0);
  return !first.gate_proj->bias.defined() && !first.up_proj->bias.defined() && !first.down_proj->bias.defined();
}

DenseExperts::DenseExperts(model::MoeFeedForward* moe) : moe_(moe) {
  require(supported(*moe), "dense MoE decode: experts with biases are not supported");
  const auto& w = expert(*moe_, 0).gate_proj->weight;  // [I, hidden]
  const int64_t e = static_cast<int64_t>(moe_->experts->size());
  intermediate_ = w.size(0);
  gate_up_ = torch::empty({e, 2 * intermediate_, w.size(1)}, w.options());
  down_ = torch::empty({e, w.size(1), intermediate_}, w.options());
  refresh();
}

void DenseExperts::refresh() {
  torch::NoGradGuard no_grad;
  for (size_t e = 0; e < moe_->experts->size(); ++e) {
    auto& mlp = expert(*moe_, e);
    gate_up_[e].narrow(0, 0, intermediate_).copy_(mlp.gate_proj->weight);
    gate_up_[e].narrow(0, intermediate_, intermediate_).copy_(mlp.up_proj->weight);
    down_[e].copy_(mlp.down_proj->weight);
  }
}

torch::Tensor DenseExperts::forward(const torch::Tensor& x) {
  const int64_t n = x.size(0), e = gate_up_.size(0);
  auto route = moe_->gate->route(x);  // weights [N, K] float32, indices [N, K]
  auto combine = torch::zeros({n, e}, route.weights.options()).scatter(1, route.indices, route.weights);
  auto inputs = x.to(gate_up_.scalar_type()).unsqueeze(0).expand({e, n, x.size(1)});
  auto gate_up = torch::bmm(inputs, gate_up_.transpose(1, 2));  // [E, N, 2I]
  auto hidden = torch::silu(gate_up.narrow(-1, 0, intermediate_)) * gate_up.narrow(-1, intermediate_, intermediate_);
  auto outputs = torch::bmm(hidden, down_.transpose(1, 2));  // [E, N, hidden]
  // Weighted in float32, as the module does before casting back.
  auto y = (outputs.to(torch::kFloat32) * combine.t().unsqueeze(-1)).sum(0).to(x.scalar_type());
  if (moe_->shared_experts) y = y + moe_->shared_experts->swiglu(x);
  return y;
}

}  // namespace grpo::rollout
