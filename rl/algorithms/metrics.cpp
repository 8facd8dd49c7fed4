// Metric helpers shared by the algorithm functions (see metrics.h).
#include "rl/algorithms/metrics.h"

namespace grpo::rl {

void merge_metrics(Metrics& into, const Metrics& from) {
  for (const auto& [key, value] : from) into[key] = value;
}

std::map<std::string, double> metric_values(const Metrics& metrics) {
  std::map<std::string, double> out;
  for (const auto& [key, value] : metrics) out[key] = value.item<double>();
  return out;
}

torch::Tensor float_mask(const torch::Tensor& mask) { return mask.to(torch::kFloat32); }

torch::Tensor zero_outside_mask(const torch::Tensor& values, const torch::Tensor& mask) {
  const auto v = values.to(torch::kFloat32);
  return torch::where(mask.to(torch::kBool), v, torch::zeros({}, v.options()));
}

torch::Tensor masked_mean(const torch::Tensor& values, const torch::Tensor& mask) {
  return zero_outside_mask(values, mask).sum() / float_mask(mask).sum().clamp_min(1.0);
}

}  // namespace grpo::rl
