// Goodness of fit of sampled tokens against the distribution they should follow, shared by the
// CPU and CUDA sampler tests.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace grpo::testing {

struct ChiSquare {
  double statistic = 0;
  int df = -1;             // bins with p > 0, minus one
  int64_t impossible = 0;  // draws of tokens with p = 0
};

// tokens: sampled ids (any device); p: the probability of each id.
inline ChiSquare chi_square(const torch::Tensor& tokens, const std::vector<double>& p) {
  const auto counts = torch::bincount(tokens.to(torch::kCPU), {}, static_cast<int64_t>(p.size())).to(torch::kFloat64);
  const auto* c = counts.data_ptr<double>();
  const double draws = static_cast<double>(tokens.numel());
  ChiSquare out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) {
      out.impossible += static_cast<int64_t>(c[i]);
      continue;
    }
    const double e = p[i] * draws;
    out.statistic += (c[i] - e) * (c[i] - e) / e;
    ++out.df;
  }
  return out;
}

}  // namespace grpo::testing
