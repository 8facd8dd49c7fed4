// Recorded routes laid out for the learner's forwards, checked, replayed; see routing_replay.h.
#include "rl/trainer/routing_replay.h"

#include "core/error.h"

namespace grpo::rl {
namespace {

// A record as a [tokens, layers, K] int16 tensor over its own memory (no copy).
torch::Tensor record_tensor(const rollout::TokenRoutes& r) {
  return torch::from_blob(const_cast<int16_t*>(r.expert_ids.data()), {r.tokens(), r.layers, r.top_k}, torch::kInt16);
}

}  // namespace

torch::Tensor replayed_routes(const std::vector<const rollout::TokenRoutes*>& routes, const SequenceBatch& batch,
                              const model::CausalLMImpl& policy) {
  const auto layer_indices = model::moe_layer_indices(policy);
  const int64_t layers = static_cast<int64_t>(layer_indices.size()), top_k = policy.config().num_experts_per_tok,
                experts = policy.config().n_routed_experts, n = batch.rows(), width = batch.input_ids.size(1);
  require(layers > 0, "rl.moe_routing_replay: rollout needs a MoE policy; this one has no MoE layer");
  require(static_cast<int64_t>(routes.size()) == n, "routing replay: " + std::to_string(routes.size()) +
                                                         " route records for a batch of " + std::to_string(n) + " rows");
  auto out = torch::full({n, width, layers, top_k}, -1, torch::kInt16);
  for (int64_t i = 0; i < n; ++i) {
    const auto& r = *routes[static_cast<size_t>(i)];
    const std::string row = "routing replay: row " + std::to_string(i) + ": ";
    if (r.tokens() == 0) continue;
    require(r.layers == layers, row + "the rollout recorded " + std::to_string(r.layers) +
                                    " MoE layers, the policy has " + std::to_string(layers));
    require(r.top_k == top_k, row + "the rollout recorded " + std::to_string(r.top_k) +
                                  " experts per token, the policy routes to " + std::to_string(top_k));
    const int64_t length = batch.prompt_lengths[static_cast<size_t>(i)] + batch.completion_lengths[static_cast<size_t>(i)];
    require(r.tokens() <= length, row + std::to_string(r.tokens()) + " recorded tokens for a sequence of " +
                                      std::to_string(length));
    const auto record = record_tensor(r);
    const auto bad = (record < 0).logical_or(record >= experts).any(/*dim=*/2).any(/*dim=*/0);  // [layers]
    for (int64_t l = 0; l < layers; ++l)
      require(!bad[l].item<bool>(), row + "MoE layer " + std::to_string(layer_indices[static_cast<size_t>(l)]) +
                                        " has a recorded expert id outside [0, " + std::to_string(experts) + ")");
    out[i].narrow(0, 0, r.tokens()).copy_(record);
  }
  return out;
}

RouteReplay::RouteReplay(model::CausalLM& policy, const torch::Tensor& routes, const SequenceBatch& batch,
                         SequenceLayout layout) {
  if (!routes.defined()) return;
  const auto layers = policy->moe_layers();
  require(routes.dim() == 4 && routes.size(0) == batch.rows() && routes.size(2) == static_cast<int64_t>(layers.size()),
          "routing replay: expected routes [" + std::to_string(batch.rows()) + ", L, " +
              std::to_string(layers.size()) + ", K], got " + c10::str(routes.sizes()));
  const int64_t width = batch.input_ids.size(1);
  auto tokens = routes.narrow(1, 0, width);  // [n, L, layers, K]: the padded layout
  if (layout == SequenceLayout::kPacked) {
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < batch.rows(); ++i)
      rows.push_back(tokens[i].narrow(0, 0, batch.prompt_lengths[i] + batch.completion_lengths[i]));
    tokens = torch::cat(rows);  // [Σ lengths, layers, K]
  }
  const auto device = batch.input_ids.device();
  const auto flat = tokens.reshape({-1, tokens.size(-2), tokens.size(-1)}).to(device, torch::kInt64);
  for (size_t l = 0; l < layers.size(); ++l) layers[l]->replay_routes(flat.select(1, static_cast<int64_t>(l)));
  layers_ = layers;
}

RouteReplay::~RouteReplay() {
  for (auto* moe : layers_) moe->replay_routes({});
}

torch::Tensor routed_token_counts(const std::vector<const rollout::TokenRoutes*>& routes, int64_t layers,
                                  int64_t experts) {
  auto counts = torch::zeros({layers, experts}, torch::kInt64);
  for (const auto* r : routes) {
    if (r->tokens() == 0) continue;
    require(r->layers == layers, "router health: a route record has " + std::to_string(r->layers) +
                                     " MoE layers, expected " + std::to_string(layers));
    const auto by_layer = record_tensor(*r).to(torch::kInt64).permute({1, 0, 2}).reshape({layers, -1});
    counts.scatter_add_(1, by_layer.clamp(0, experts - 1), torch::ones_like(by_layer));
  }
  return counts;
}

}  // namespace grpo::rl
