// MoE router health for one training step (issue 29): per MoE layer, the share of the step's
// tokens each expert received (a histogram), its coefficient of variation, the experts that got
// no token, and DeepSeek-V3's auxiliary-loss-free bias norm. Names are `<prefix>layer<L>/...`
// with L the decoder layer's index: expert_load (histogram, sums to 1), load_cv, dead_experts,
// bias_norm. The learner's counts come from the layers' own expert_load() (filled by forwards
// with record_router_stats); the rollout's from its recorded routes. Not here: logging them
// (the trainer), drawing them (report/heatmap).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "model/arch/transformer.h"

namespace grpo::model {

struct RouterHealth {
  std::map<std::string, double> metrics;
  std::map<std::string, std::vector<double>> histograms;
};

// The decoder-layer index of each MoE layer, in moe_layers() order.
std::vector<int64_t> moe_layer_indices(const CausalLMImpl& model);

// counts: [layers, E] tokens per expert (any numeric dtype, any device), row i of decoder layer
// layer_indices[i]. A layer that saw no token gets no entry (nothing to share out). load_cv is
// the population standard deviation of the shares over their mean (0 = perfectly balanced).
RouterHealth router_health(const torch::Tensor& counts, const std::vector<int64_t>& layer_indices,
                           const std::string& prefix);

// The learner's health since the last call: every MoE layer's expert_load() and (V3) bias norm,
// brought to the host in one copy, then the loads reset. Names under "router/", and
// router/layer<L>/bias_norm for routers with an e_score_correction_bias. Empty for a dense model.
RouterHealth take_router_health(CausalLMImpl& model);

}  // namespace grpo::model
