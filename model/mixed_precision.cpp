// fp32 master weights beside bf16 parameters; see mixed_precision.h.
#include "model/mixed_precision.h"

namespace grpo::model {

MasterWeights::MasterWeights(CausalLM& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) {
    if (!p.requires_grad()) continue;
    params_.push_back(p);
    masters_.push_back(p.detach().to(torch::kFloat32).clone().requires_grad_(true));
  }
}

void MasterWeights::load_gradients() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& grad = params_[i].mutable_grad();
    if (!grad.defined()) continue;
    if (masters_[i].grad().defined()) masters_[i].mutable_grad().copy_(grad);
    else masters_[i].mutable_grad() = grad.to(torch::kFloat32);
    grad = torch::Tensor();
  }
}

void MasterWeights::publish() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_(masters_[i]);
}

}  // namespace grpo::model
