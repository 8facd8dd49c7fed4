// Named scalar metrics returned beside every algorithm value ("actor/clip_frac_low", ...), and
// the masked means they are built from. Values stay 0-dim detached tensors so that a GPU step
// does not synchronise once per metric; call metric_values() when logging. It does not log or
// average across steps: the trainer does that.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace grpo::rl {

using Metrics = std::map<std::string, torch::Tensor>;

// Adds every entry of `from` to `into`; a key present in both keeps `from`'s value.
void merge_metrics(Metrics& into, const Metrics& from);

// One host value per metric (synchronises once per entry).
std::map<std::string, double> metric_values(const Metrics& metrics);

// Mean of `values` over positions where mask != 0; 0 when the mask is empty.
// values: [N, T] (or any shape) float; mask: same shape, bool or float in {0, 1}.
torch::Tensor masked_mean(const torch::Tensor& values, const torch::Tensor& mask);

// A float32 copy of a 0/1 mask of any dtype (bool, int, float).
torch::Tensor float_mask(const torch::Tensor& mask);

// values as float32 with every position where mask == 0 set to 0. Uses where(), not a product,
// so a non-finite value in padding (0 · inf = nan) cannot reach a sum or a gradient.
torch::Tensor zero_outside_mask(const torch::Tensor& values, const torch::Tensor& mask);

}  // namespace grpo::rl
