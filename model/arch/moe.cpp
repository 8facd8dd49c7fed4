// Router, grouped expert execution, load statistics and balancing; see moe.h.
#include "model/arch/moe.h"

#include <limits>
#include <map>

#include "core/error.h"
#include "core/torch/compat.h"
#include "model/cache/row_gather.h"
#ifdef GRPO_WITH_CUDA
#include "model/kernels/moe/fused_expert_layout.h"
#include "model/kernels/moe/fused_moe_combine.h"
#endif
#include "model/arch/tensor_names.h"

namespace grpo::model {

RouterImpl::RouterImpl(const ModelConfig& c)
    : top_k_(c.num_experts_per_tok), groups_(c.n_group), topk_groups_(c.topk_group),
      sigmoid_(c.scoring_func == "sigmoid"), normalize_(c.arch == Arch::kDeepseekV3 && c.norm_topk_prob),
      group_limited_(c.arch == Arch::kDeepseekV3 ? c.n_group > 1 : c.topk_method == "group_limited_greedy"),
      scaling_(c.routed_scaling_factor) {
  weight = register_parameter(names::kWeight, torch::zeros({c.n_routed_experts, c.hidden_size}));
  if (c.arch == Arch::kDeepseekV3)
    e_score_correction_bias = register_buffer(names::kScoreCorrectionBias, torch::zeros({c.n_routed_experts}));
}

// Keeps the experts of the topk_group best groups; the rest get `fill`. A group's rank is the sum
// of its two best scores (V3) or its best score (V2).
torch::Tensor RouterImpl::limit_groups(const torch::Tensor& selection, bool top2_sum, double fill) const {
  const int64_t n = selection.size(0), e = selection.size(1);
  auto grouped = selection.view({n, groups_, e / groups_});
  auto group_scores = top2_sum && e / groups_ >= 2 ? std::get<0>(grouped.topk(2, -1)).sum(-1)
                                                   : std::get<0>(grouped.max(-1));
  auto group_idx = std::get<1>(group_scores.topk(topk_groups_, -1, /*largest=*/true, /*sorted=*/false));
  auto keep = torch::zeros_like(group_scores, torch::kBool).scatter(1, group_idx, true);
  auto expert_keep = keep.unsqueeze(-1).expand({n, groups_, e / groups_}).reshape({n, e});
  return selection.masked_fill(expert_keep.logical_not(), fill);
}

RouterOutput RouterImpl::route(const torch::Tensor& x) {
  RouterOutput out;
  auto logits = torch::nn::functional::linear(x.to(torch::kFloat32), weight.to(torch::kFloat32));
  if (sigmoid_) {
    out.scores = torch::sigmoid(logits);
    auto selection = out.scores + e_score_correction_bias.to(torch::kFloat32);
    if (group_limited_) selection = limit_groups(selection, true, -std::numeric_limits<double>::infinity());
    out.indices = std::get<1>(selection.topk(top_k_, -1, true, false));
    out.weights = out.scores.gather(1, out.indices);
    if (normalize_) out.weights = out.weights / (out.weights.sum(-1, true) + 1e-20);
  } else {
    out.scores = torch::softmax(logits, -1);
    auto selection = group_limited_ ? limit_groups(out.scores, false, 0.0) : out.scores;
    std::tie(out.weights, out.indices) = selection.topk(top_k_, -1, true, false);
  }
  out.weights = out.weights * scaling_;
  return out;
}

RouterOutput RouterImpl::route(const torch::Tensor& x, const torch::Tensor& replayed) {
  auto out = route(x);
  if (!replayed.defined()) return out;
  require(replayed.dim() == 2 && replayed.size(0) == x.size(0) && replayed.size(1) == top_k_,
          "routing replay: expected replayed experts [" + std::to_string(x.size(0)) + ", " + std::to_string(top_k_) +
              "] for this forward's tokens, got " + c10::str(replayed.sizes()));
  out.indices = torch::where(replayed >= 0, replayed.to(out.indices.scalar_type()), out.indices);
  out.weights = out.scores.gather(1, out.indices);
  if (normalize_) out.weights = out.weights / (out.weights.sum(-1, true) + 1e-20);
  out.weights = out.weights * scaling_;
  return out;
}

RoutedExpertsImpl::RoutedExpertsImpl(int64_t experts, int64_t hidden, int64_t intermediate) {
  gate_up_proj = register_parameter(names::kGateUpProj, torch::zeros({experts, 2 * intermediate, hidden}));
  down_proj = register_parameter(names::kDownProj, torch::zeros({experts, hidden, intermediate}));
}

// Grouped GEMM wants rows of a multiple of 16 bytes (8 bf16 values), the adapters' ranks too.
bool RoutedExpertsImpl::host_free(const torch::Tensor& x) const {
  bool aligned = down_proj.size(1) % 8 == 0 && down_proj.size(2) % 8 == 0;
  for (const auto* slices : {&gate_up_lora_, &down_lora_})
    for (const auto& s : *slices) aligned = aligned && s.a.size(1) % 8 == 0;
  return compat::grouped_mm_supported(x) && aligned;
}

void RoutedExpertsImpl::add_lora(LoraSlice slice, bool on_down_proj) {
  const auto& stack = on_down_proj ? down_proj : gate_up_proj;
  const int64_t experts = stack.size(0), out = stack.size(1), in = stack.size(2);
  require(slice.a.dim() == 3 && slice.a.size(0) == experts && slice.a.size(2) == in && slice.b.dim() == 3 &&
              slice.b.size(0) == experts && slice.b.size(2) == slice.a.size(1) && slice.row_offset >= 0 &&
              slice.row_offset + slice.b.size(1) <= out,
          "LoRA adapter '" + slice.name + "': A " + c10::str(slice.a.sizes()) + " and B " + c10::str(slice.b.sizes()) +
              " at row " + std::to_string(slice.row_offset) + " do not fit a stack " + c10::str(stack.sizes()));
  const auto leaf = slice.name.substr(slice.name.rfind('.') + 1);
  slice.a = register_parameter("lora_A_" + leaf, slice.a);
  slice.b = register_parameter("lora_B_" + leaf, slice.b);
  (on_down_proj ? down_lora_ : gate_up_lora_).push_back(std::move(slice));
}

torch::Tensor RoutedExpertsImpl::lora_delta(const std::vector<LoraSlice>& slices, const torch::Tensor& x, int64_t rows,
                                            const ExpertMatmul& matmul) {
  if (!lora_enabled_) return {};
  const bool drop = is_training() && torch::GradMode::is_enabled();
  torch::Tensor total;
  for (const auto& s : slices) {
    const auto input = drop && s.dropout > 0 ? torch::dropout(x, s.dropout, true) : x;
    auto delta = matmul(matmul(input, s.a), s.b) * s.scaling;  // [T, slice rows]
    const int64_t end = s.row_offset + s.b.size(1);
    delta = torch::constant_pad_nd(delta, {s.row_offset, rows - end});
    total = total.defined() ? total + delta : delta;
  }
  return total;
}

torch::Tensor RoutedExpertsImpl::forward(const torch::Tensor& sorted_x, const torch::Tensor& offsets) {
  // One expert's stage: x times its stacked weights, plus its adapters.
  auto stage = [this](const torch::Tensor& x, const torch::Tensor& stack, const std::vector<LoraSlice>& slices,
                      const ExpertMatmul& matmul) {
    auto y = matmul(x, stack);
    const auto delta = lora_delta(slices, x, stack.size(1), matmul);
    return delta.defined() ? y + delta : y;
  };
  if (host_free(sorted_x)) {  // grouped GEMM takes the weights as [E, in, out]
    const ExpertMatmul grouped = [&offsets](const torch::Tensor& x, const torch::Tensor& stacked) {
      return compat::grouped_mm(x, stacked.transpose(1, 2), offsets);
    };
    auto act = swiglu_activation(stage(sorted_x, gate_up_proj, gate_up_lora_, grouped));
    return stage(act, down_proj, down_lora_, grouped);
  }
  // Every stack split by expert once: unbind's backward is one stack, however many experts got no
  // tokens (indexing each expert would add a zeroed full-size gradient per expert).
  std::map<const void*, std::vector<torch::Tensor>> by_expert;
  auto split = [&by_expert](const torch::Tensor& stacked) { by_expert[stacked.unsafeGetTensorImpl()] = stacked.unbind(0); };
  split(gate_up_proj);
  split(down_proj);
  for (const auto* slices : {&gate_up_lora_, &down_lora_})
    for (const auto& s : *slices) split(s.a), split(s.b);
  const auto ends = offsets.to(torch::kCPU, torch::kInt64);
  std::vector<torch::Tensor> pieces;
  int64_t begin = 0;
  for (int64_t e = 0; e < gate_up_proj.size(0); ++e) {
    const int64_t end = ends.data_ptr<int64_t>()[e];
    if (end == begin) continue;
    const ExpertMatmul of_expert = [e, &by_expert](const torch::Tensor& x, const torch::Tensor& stacked) {
      return torch::matmul(x, by_expert.at(stacked.unsafeGetTensorImpl())[e].t());
    };
    auto act = swiglu_activation(stage(sorted_x.narrow(0, begin, end - begin), gate_up_proj, gate_up_lora_, of_expert));
    pieces.push_back(stage(act, down_proj, down_lora_, of_expert));
    begin = end;
  }
  if (pieces.empty()) return torch::zeros_like(sorted_x);
  return torch::cat(pieces, 0);
}

MoeFeedForward::MoeFeedForward(const ModelConfig& c) : num_experts_(c.n_routed_experts), top_k_(c.num_experts_per_tok) {
  gate = register_module(names::kGate, Router(c));
  experts = register_module(names::kExperts, RoutedExperts(c.n_routed_experts, c.hidden_size, c.moe_intermediate_size));
  if (c.n_shared_experts > 0)
    shared_experts =
        register_module(names::kSharedExperts, Mlp(c.hidden_size, c.moe_intermediate_size * c.n_shared_experts, c.mlp_bias));
  load_ = torch::zeros({num_experts_}, torch::kInt64);
}

namespace {

// Each expert's rows start at a multiple of this many rows, as torchtitan lays out its grouped
// GEMM inputs (it pads to 8 for bf16); the padding rows are zeros and change nothing. (An earlier
// comment here blamed unaligned offsets for a large expert-gradient error in the GpuMoe test; the
// error stayed the same after aligning and came from bf16 routing near-ties, see that test.)
constexpr int64_t kExpertRowAlign = 16;

// ExpertLayout (moe.h) of the pairs: on CUDA one kernel (fused_expert_layout.h); elsewhere a
// stable sort of the pairs by expert, the counts (index_add: bincount would read its input's
// maximum on the host), their aligned starts, and the pair-row relation both ways. Every shape
// depends only on the pair count, and nothing is read on the host.
ExpertLayout lay_out_expert_rows(const torch::Tensor& flat_experts, int64_t num_experts, int64_t top_k) {
#ifdef GRPO_WITH_CUDA
  if (fused_expert_layout_applies(flat_experts, num_experts))
    return fused_expert_layout(flat_experts, num_experts, top_k, kExpertRowAlign);
#endif
  const int64_t pairs = flat_experts.size(0), align = kExpertRowAlign;
  auto [sorted_experts, order] = flat_experts.sort(/*stable=*/true, 0, false);
  auto counts = torch::zeros({num_experts}, flat_experts.options()).index_add_(0, flat_experts, torch::ones_like(flat_experts));
  auto padded_counts = (counts + (align - 1)).div(align, "floor") * align;
  auto starts = counts.cumsum(0) - counts, padded_starts = padded_counts.cumsum(0) - padded_counts;
  // Row of sorted pair i: i + (its expert's padded start - its start).
  auto rows = torch::arange(pairs, flat_experts.options()) + (padded_starts - starts).index_select(0, sorted_experts);
  // The bound on the padded total keeps shapes static; the last expert's group runs to its end, so
  // no row lies outside a group (grouped GEMM leaves such rows unwritten).
  const int64_t total = pairs + num_experts * (align - 1);
  auto ends = padded_starts + padded_counts;
  ends.narrow(0, num_experts - 1, 1).fill_(total);
  // Padding rows copy token 0: no pair reads their outputs, so their gradients are zero and their
  // values never matter.
  ExpertLayout out;
  out.row_of_pair = torch::empty_like(rows).index_copy_(0, order, rows);
  out.token_of_row = torch::zeros({total}, rows.options()).index_copy_(0, rows, order.div(top_k, "floor"));
  out.pair_of_row = torch::full({total, 1}, pairs, rows.options()).index_copy_(0, rows, order.unsqueeze(1));
  out.ends = ends.to(torch::kInt32);
  return out;
}

}  // namespace

// x [N, H]: lay the N*K (token, expert) pairs out by expert, run the experts, and sum each
// token's K expert outputs weighted by the routing weights, in float32 and in k order. Moving rows
// between token and expert order is a gather both ways, forward and backward (row_gather.h; on
// CUDA the combine is one kernel each way, fused_moe_combine.h): no atomics, so the sums do not
// depend on scheduling.
torch::Tensor MoeFeedForward::run_experts(const torch::Tensor& x, const RouterOutput& route) {
  const int64_t n = x.size(0);
  const auto layout = lay_out_expert_rows(route.indices.reshape({-1}), num_experts_, top_k_);  // pair p = token * K + k
  auto laid_out = gather_rows(x, layout.token_of_row, layout.row_of_pair.view({n, top_k_}), /*has_holes=*/false);
  auto rows_out = experts->forward(laid_out, layout.ends);
  const auto pair_of_row = layout.pair_of_row.view({-1});
#ifdef GRPO_WITH_CUDA
  if (fused_moe_combine_applies(rows_out, route.weights, layout.row_of_pair, pair_of_row))
    return fused_moe_combine(rows_out, route.weights, layout.row_of_pair, pair_of_row);
#endif
  auto y = gather_rows(rows_out, layout.row_of_pair, layout.pair_of_row, /*has_holes=*/true);
  return (y.view({n, top_k_, -1}) * route.weights.unsqueeze(-1)).sum(1).to(x.scalar_type());
}

// DeepSeek-V3 sequence-wise balance loss, alpha * mean_b sum_i f_{b,i} P_{b,i} with
// f = E/(K T_b) * (tokens of b routed to i), P = mean over b's tokens of normalized scores.
torch::Tensor MoeFeedForward::balance_loss(const RouterOutput& route, const torch::Tensor& valid, int64_t batch,
                                           double alpha) const {
  const int64_t n = route.scores.size(0), t = n / batch;
  auto mask = valid.defined() ? valid.reshape({batch, t}).to(torch::kFloat32)
                              : torch::ones({batch, t}, route.scores.options());
  auto tokens = mask.sum(1).clamp_min(1.0);  // [B]
  auto chosen = torch::zeros_like(route.scores).scatter(1, route.indices, 1.0).view({batch, t, num_experts_});
  auto f = (chosen * mask.unsqueeze(-1)).sum(1) * (static_cast<double>(num_experts_) / top_k_) / tokens.unsqueeze(1);
  auto normalized = (route.scores / route.scores.sum(-1, true)).view({batch, t, num_experts_});
  auto p = (normalized * mask.unsqueeze(-1)).sum(1) / tokens.unsqueeze(1);
  return alpha * (f.detach() * p).sum(1).mean();
}

LayerOutput MoeFeedForward::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  const int64_t hidden = x.size(-1);
  auto flat = x.reshape({-1, hidden});
  auto route = gate->route(flat, replayed_);
  record_routes(route.indices);
  auto y = run_experts(flat, route);
  if (shared_experts) y = y + shared_experts->swiglu(flat);
  LayerOutput out{y.view(x.sizes()), {}};
  if (ctx.record_router_stats) {
    torch::NoGradGuard no_grad;
    auto per_token = ctx.valid.defined() ? ctx.valid.reshape({-1, 1}).expand({flat.size(0), top_k_}).to(torch::kInt64)
                                         : torch::ones_like(route.indices);
    if (load_.device() != x.device()) load_ = load_.to(x.device());
    load_.index_add_(0, route.indices.reshape({-1}), per_token.reshape({-1}));
  }
  if (ctx.balance_loss_alpha > 0.0 && x.dim() == 3)
    out.aux_loss = balance_loss(route, ctx.valid, x.size(0), ctx.balance_loss_alpha);
  return out;
}

void MoeFeedForward::record_routes(const torch::Tensor& indices) {
  if (!route_record_.defined()) return;
  require(indices.size(0) <= route_record_.size(0),
          "routing record: " + std::to_string(indices.size(0)) + " tokens exceed the record buffer's " +
              std::to_string(route_record_.size(0)) + " rows");
  route_record_.narrow(0, 0, indices.size(0)).copy_(indices);
}

void MoeFeedForward::update_bias(double gamma) {
  require(gate->e_score_correction_bias.defined(),
          "auxiliary-loss-free bias update needs e_score_correction_bias (DeepSeek-V3 routers only)");
  torch::NoGradGuard no_grad;
  auto load = load_.to(torch::kFloat32);
  auto delta = gamma * torch::sign(load.mean() - load);
  auto& bias = gate->e_score_correction_bias;
  bias.add_(delta.to(bias.device(), bias.scalar_type()));
  load_.zero_();
}

}  // namespace grpo::model
