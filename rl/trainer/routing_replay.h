// Routing replay in the learner (issue 23, `rl.moe_routing_replay: rollout`): the experts the
// rollout recorded for each sequence (rollout::TokenRoutes) laid out as the batch's padded
// tokens, checked against the policy, and handed to its MoE layers for one forward in the token
// order that forward uses (padded rows, or the rows' real tokens back to back when packed).
// Also the rollout's router health, counted from the same records. Not here: recording (the
// engine), the routing itself (MoeFeedForward::replay_routes).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/arch/router_health.h"
#include "rollout/generation.h"
#include "rl/trainer/sequence_batch.h"

namespace grpo::rl {

// The batch's recorded experts in its padded layout: [N, L, MoE layers, K] int16 on the CPU, L =
// batch.input_ids' width; -1 where nothing was recorded (padding, each sequence's last token),
// which the layer routes itself. routes[i] belongs to row i. Errors (grpo::Error) name the row
// and, for an expert id outside [0, experts), the MoE layer by its decoder index; a record whose
// layer count or top-k differs from the policy's, or that is longer than its row, names both.
torch::Tensor replayed_routes(const std::vector<const rollout::TokenRoutes*>& routes, const SequenceBatch& batch,
                              const model::CausalLMImpl& policy);

// For the life of the object, `policy`'s MoE layers take `routes`' experts in the next forwards
// of `batch` in `layout`. routes: [batch.rows(), >= L, MoE layers, K] int16 (replayed_routes'
// rows for these sequences, in batch's order); undefined = nothing replayed. The destructor
// clears the layers' replay, also when the forward throws.
class RouteReplay {
 public:
  RouteReplay(model::CausalLM& policy, const torch::Tensor& routes, const SequenceBatch& batch,
              SequenceLayout layout);
  ~RouteReplay();
  RouteReplay(const RouteReplay&) = delete;
  RouteReplay& operator=(const RouteReplay&) = delete;

 private:
  std::vector<model::MoeFeedForward*> layers_;
};

// Tokens per expert in each MoE layer over the given records: [layers, experts] int64 (every
// recorded token of each, prompts included). Records of no token are skipped.
torch::Tensor routed_token_counts(const std::vector<const rollout::TokenRoutes*>& routes, int64_t layers,
                                  int64_t experts);

}  // namespace grpo::rl
