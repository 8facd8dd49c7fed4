// Expert load shares, their CV, dead experts and the aux-free bias norm; see router_health.h.
#include "model/arch/router_health.h"

#include <cmath>

#include "core/error.h"

namespace grpo::model {

std::vector<int64_t> moe_layer_indices(const CausalLMImpl& model) {
  std::vector<int64_t> out;
  const auto& decoder = model.model->decoder;
  for (size_t l = 0; l < decoder.size(); ++l)
    if (decoder[l]->moe()) out.push_back(static_cast<int64_t>(l));
  return out;
}

RouterHealth router_health(const torch::Tensor& counts, const std::vector<int64_t>& layer_indices,
                           const std::string& prefix) {
  require(counts.dim() == 2 && counts.size(0) == static_cast<int64_t>(layer_indices.size()),
          "router_health: expected counts [" + std::to_string(layer_indices.size()) + " layers, experts], got " +
              c10::str(counts.sizes()));
  RouterHealth out;
  const auto host = counts.to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t experts = host.size(1);
  for (int64_t i = 0; i < host.size(0); ++i) {
    const double* row = host.data_ptr<double>() + i * experts;
    double total = 0;
    for (int64_t e = 0; e < experts; ++e) total += row[e];
    if (total <= 0) continue;
    std::vector<double> share(static_cast<size_t>(experts));
    double dead = 0, sum_sq = 0;
    const double mean = 1.0 / static_cast<double>(experts);
    for (int64_t e = 0; e < experts; ++e) {
      share[e] = row[e] / total;
      dead += row[e] == 0 ? 1 : 0;
      sum_sq += (share[e] - mean) * (share[e] - mean);
    }
    const std::string layer = prefix + "layer" + std::to_string(layer_indices[static_cast<size_t>(i)]) + "/";
    out.metrics[layer + "load_cv"] = std::sqrt(sum_sq / static_cast<double>(experts)) / mean;
    out.metrics[layer + "dead_experts"] = dead;
    out.histograms[layer + "expert_load"] = std::move(share);
  }
  return out;
}

RouterHealth take_router_health(CausalLMImpl& model) {
  const auto layers = model.moe_layers();
  if (layers.empty()) return {};
  torch::NoGradGuard no_grad;
  // One row per layer: its loads, then its bias norm (0 without a bias), copied to the host once.
  std::vector<torch::Tensor> rows;
  for (auto* moe : layers) {
    const auto& bias = moe->gate->e_score_correction_bias;
    const auto load = moe->expert_load().to(torch::kFloat64);
    const auto norm = bias.defined() ? bias.to(load.device(), torch::kFloat64).norm().reshape({1})
                                     : torch::zeros({1}, load.options());
    rows.push_back(torch::cat({load, norm}));
  }
  const auto table = torch::stack(rows).cpu();
  for (auto* moe : layers) moe->reset_expert_load();
  const auto indices = moe_layer_indices(model);
  const int64_t experts = table.size(1) - 1;
  auto health = router_health(table.narrow(1, 0, experts), indices, "router/");
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i]->gate->e_score_correction_bias.defined())
      health.metrics["router/layer" + std::to_string(indices[i]) + "/bias_norm"] =
          table[static_cast<int64_t>(i)][experts].item<double>();
  return health;
}

}  // namespace grpo::model
