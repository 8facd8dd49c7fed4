// Dense batched-expert MoE for decode; see moe_decode.h.
#include "rollout/moe_decode.h"

namespace grpo::rollout {

torch::Tensor all_experts_forward(model::MoeFeedForward& moe, const torch::Tensor& x) {
  const auto& gate_up_w = moe.experts->gate_up_proj;  // [E, 2I, hidden]
  const auto& down_w = moe.experts->down_proj;        // [E, hidden, I]
  const int64_t n = x.size(0), e = gate_up_w.size(0);
  auto route = moe.gate->route(x);  // weights [N, K] float32, indices [N, K]
  auto combine = torch::zeros({n, e}, route.weights.options()).scatter(1, route.indices, route.weights);
  auto inputs = x.to(gate_up_w.scalar_type()).unsqueeze(0).expand({e, n, x.size(1)});
  auto hidden = model::swiglu_activation(torch::bmm(inputs, gate_up_w.transpose(1, 2)));  // [E, N, I]
  // The routing weight scales each expert's activations (the down projection is linear), in
  // float32 and in place: the [E, N, hidden] outputs are then written once and summed once, where
  // weighting them would convert, multiply and reduce 2·E·N·hidden float32 values.
  hidden.mul_(combine.t().unsqueeze(-1));
  auto y = torch::bmm(hidden, down_w.transpose(1, 2)).sum(0).to(x.scalar_type());  // sum: float32 accumulation
  if (moe.shared_experts) y = y + moe.shared_experts->swiglu(x);
  return y;
}

}  // namespace grpo::rollout
