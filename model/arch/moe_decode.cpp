// Dense batched-expert MoE for decode; see moe_decode.h.
#include "model/arch/moe_decode.h"

#ifdef GRPO_WITH_CUDA
#include "model/kernels/norm_activation/fused_swiglu.h"
#include "model/kernels/moe/expert_down.h"
#include "model/kernels/moe/expert_gate_up.h"
#include "model/kernels/moe/fused_router.h"
#endif

namespace grpo::model {
namespace {

// The routing matrix [E, N] float32: token n's weight for expert e, zero where not chosen. The
// chosen experts also go to the layer's route record, when it keeps one (routing replay).
torch::Tensor routing_matrix(MoeFeedForward& moe, const torch::Tensor& x, int64_t experts) {
  RouterImpl& router = *moe.gate;
#ifdef GRPO_WITH_CUDA
  if (fused_router_applies(router, x)) {
    auto combine = fused_router_combine(router, x);  // one kernel
    // A chosen expert's weight is a positive score times a positive scale, every other one is
    // exactly 0, so the K largest of a token's column are its experts (in another order).
    if (moe.records_routes()) moe.record_routes(std::get<1>(combine.t().topk(router.rule().top_k, -1, true, false)));
    return combine;
  }
#endif
  auto route = router.route(x);  // weights [N, K] float32, indices [N, K]
  moe.record_routes(route.indices);
  return torch::zeros({experts, x.size(0)}, route.weights.options()).scatter(0, route.indices.t(), route.weights.t());
}

}  // namespace

torch::Tensor all_experts_partials(MoeFeedForward& moe, const torch::Tensor& x) {
  const auto& gate_up_w = moe.experts->gate_up_proj;  // [E, 2I, hidden]
  const auto& down_w = moe.experts->down_proj;        // [E, hidden, I]
  const int64_t n = x.size(0), e = gate_up_w.size(0);
  const auto combine = routing_matrix(moe, x, e);
  // The routing weight scales each expert's activations (the down projection is linear), so the
  // down projection sums the experts' contributions as it goes, where weighting their outputs
  // would convert, multiply and reduce 2·E·N·hidden float32 values.
  torch::Tensor hidden;         // [E, N, I]
  torch::Tensor shared_hidden;  // [N, Is]: the shared experts' activations
#ifdef GRPO_WITH_CUDA
  // One kernel for the routed and shared experts' projections, SwiGLU and routing weights, when
  // the shared experts' projection has no bias.
  const bool shared_gate_up_plain = !moe.shared_experts || !moe.shared_experts->gate_up_proj->bias.defined();
  const auto shared_gate_up_w = moe.shared_experts ? moe.shared_experts->gate_up_proj->weight : torch::Tensor();
  if (shared_gate_up_plain && expert_gate_up_applies(x, gate_up_w, combine, shared_gate_up_w)) {
    auto activations = expert_gate_up(x, gate_up_w, combine, shared_gate_up_w);
    hidden = std::move(activations.hidden);
    shared_hidden = std::move(activations.shared_hidden);
  }
#endif
  if (!hidden.defined()) {
    auto inputs = x.to(gate_up_w.scalar_type()).unsqueeze(0).expand({e, n, x.size(1)});
    auto gate_up = torch::bmm(inputs, gate_up_w.transpose(1, 2));  // [E, N, 2I]
#ifdef GRPO_WITH_CUDA
    if (fused_swiglu_applies(gate_up)) hidden = fused_swiglu_scaled(gate_up, combine);
#endif
    if (!hidden.defined()) hidden = swiglu_activation(gate_up).mul_(combine.unsqueeze(-1));
    if (moe.shared_experts) shared_hidden = swiglu_activation(moe.shared_experts->gate_up_proj(x));
  }
#ifdef GRPO_WITH_CUDA
  // The kernel has no bias term: a shared down projection with a bias takes the tensor-op path.
  const bool shared_plain = !moe.shared_experts || !moe.shared_experts->down_proj->bias.defined();
  const auto shared_weight = moe.shared_experts ? moe.shared_experts->down_proj->weight : torch::Tensor();
  if (shared_plain && expert_down_applies(hidden, down_w, shared_hidden, shared_weight))
    return expert_down_partials(hidden, down_w, shared_hidden, shared_weight);
#endif
  auto y = torch::bmm(hidden, down_w.transpose(1, 2)).sum(0).to(x.scalar_type());  // sum: float32 accumulation
  if (shared_hidden.defined()) y = y + moe.shared_experts->down_proj(shared_hidden);
  return y.unsqueeze(0);
}

torch::Tensor all_experts_forward(MoeFeedForward& moe, const torch::Tensor& x) {
  return all_experts_partials(moe, x).sum(0).to(x.scalar_type());
}

}  // namespace grpo::model
