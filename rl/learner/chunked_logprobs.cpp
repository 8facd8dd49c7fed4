// Chunked token log-probs and entropy with a chunked backward (see chunked_logprobs.h).
//
// Per row, with s = z/τ the scaled logits, log p = s - logsumexp(s) and H = -Σ p·log p:
//   ∂ log p_y / ∂s_j = [j = y] - p_j
//   ∂ H / ∂s_j       = -p_j · (log p_j + H)
// so ∂L/∂s = p ⊙ (-g_lp - g_H·(log p + H)) + g_lp·onehot(y), and ∂L/∂z = ∂L/∂s / τ. The backward
// takes z kept from the forward, or recomputes it chunk by chunk from the saved hidden rows, and
// reuses the forward's row maxima and log-sums.
#include "rl/learner/chunked_logprobs.h"

#include <algorithm>

#include "core/error.h"
#include "core/torch/gradient_in_place.h"
#include "core/torch/compat.h"
#include "rl/algorithms/tensor_checks.h"
#ifdef GRPO_WITH_CUDA
#include "rl/learner/logprob_rows.h"
#endif

namespace grpo::rl {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The positions to compute, flattened: hidden rows [M, H], their tokens [M], and where they go
// in the flat [N·T] output (undefined when every position is computed).
struct SelectedRows {
  torch::Tensor hidden;
  torch::Tensor tokens;
  torch::Tensor index;
};

SelectedRows select_rows(const torch::Tensor& hidden, const torch::Tensor& lm_head,
                         const torch::Tensor& tokens, const torch::Tensor& mask) {
  require_rank(hidden, 3, "hidden");
  require_floating(hidden, "hidden");
  require_rank(lm_head, 2, "lm_head");
  require(lm_head.size(1) == hidden.size(2), "lm_head: expected [V, " + std::to_string(hidden.size(2)) +
                                                 "] to match hidden's width, got " +
                                                 shape_string(lm_head.sizes()));
  require(lm_head.scalar_type() == hidden.scalar_type(), "lm_head: dtype must equal hidden's");
  require_shape(tokens, {hidden.size(0), hidden.size(1)}, "tokens");
  require(tokens.scalar_type() == torch::kLong, "tokens: expected int64");
  const int64_t rows = hidden.size(0) * hidden.size(1);
  SelectedRows out{hidden.reshape({rows, hidden.size(2)}), tokens.reshape({rows}), torch::Tensor()};
  if (mask.defined()) {
    require_shape(mask, tokens.sizes(), "mask");
    out.index = torch::nonzero(mask.reshape({rows}) != 0).squeeze(1);
    out.hidden = out.hidden.index_select(0, out.index);
    out.tokens = out.tokens.index_select(0, out.index);
  }
  if (out.tokens.numel() > 0) {
    const auto bad = (out.tokens < 0).logical_or(out.tokens >= lm_head.size(0));
    if (bad.any().item<bool>()) {
      const auto at = torch::nonzero(bad)[0][0].item<int64_t>();
      const auto flat = out.index.defined() ? out.index[at].item<int64_t>() : at;
      throw Error("tokens: id " + std::to_string(out.tokens[at].item<int64_t>()) + " at [" +
                  std::to_string(flat / hidden.size(1)) + ", " + std::to_string(flat % hidden.size(1)) +
                  "] is outside the vocabulary [0, " + std::to_string(lm_head.size(0)) + ")");
    }
  }
  return out;
}

// One chunk's logits h·Wᵀ [c, V], in the inputs' dtype.
torch::Tensor chunk_logits(const torch::Tensor& h, const torch::Tensor& weight) { return torch::matmul(h, weight.t()); }

// Scaled float32 logits z / τ: in place when z is float32 already, unless z must be preserved
// (logits kept for the backward).
torch::Tensor scaled(const torch::Tensor& z, double inv_temperature, bool preserve_z) {
  return z.to(torch::kFloat32, /*non_blocking=*/false, /*copy=*/preserve_z).mul_(inv_temperature);
}

// Turns scaled logits s [c, V] into log p in place as (s - max) - log Σ exp(s - max): subtracting
// the max first keeps float32 precision for large logits, where s - logsumexp(s) would not.
// measure = true computes max and the log-sum into row_max/lse [c, 1]; false reuses them, so the
// backward reproduces the forward's log p exactly.
void shift_to_log_softmax(torch::Tensor& s, torch::Tensor row_max, torch::Tensor lse, bool measure) {
  if (measure) row_max.copy_(std::get<0>(s.max(1, true)));
  s.sub_(row_max);
  if (measure) lse.copy_(s.exp().sum(1, true).log_());
  s.sub_(lse);
}

// Overwrites one chunk's logits z [c, V] with ∂L/∂z (in z's dtype); g_lp and g_h are the chunk's
// upstream gradients (either undefined: zero).
void logits_to_gradient(torch::Tensor& z, const torch::Tensor& tokens, double inv_t, const torch::Tensor& row_max,
                        const torch::Tensor& lse, const torch::Tensor& entropy, const torch::Tensor& g_lp,
                        const torch::Tensor& g_h) {
#ifdef GRPO_WITH_CUDA
  if (logprob_rows_apply(z)) {  // bf16 on CUDA: one pass over the logits
    logprob_rows_backward(z, tokens, inv_t, row_max, lse, entropy, g_lp, g_h);
    return;
  }
#endif
  auto log_p = scaled(z, inv_t, /*preserve_z=*/false);
  shift_to_log_softmax(log_p, row_max, lse, /*measure=*/false);
  const auto p = log_p.exp();
  // log_p becomes the factor multiplying p: -g_lp - g_H·(log p + H).
  auto factor = g_h.defined() ? log_p.add_(entropy.unsqueeze(1)).mul_(-g_h.unsqueeze(1)) : log_p.zero_();
  if (g_lp.defined()) factor.sub_(g_lp.unsqueeze(1));
  auto grad_s = factor.mul_(p);
  if (g_lp.defined()) grad_s.scatter_add_(1, tokens.unsqueeze(1), g_lp.unsqueeze(1));
  grad_s.mul_(inv_t);
  if (!grad_s.is_same(z)) z.copy_(grad_s);  // float32 z was overwritten in place already
}

struct ChunkedLogProbFunction : public torch::autograd::Function<ChunkedLogProbFunction> {
  // hidden: [M, H]; weight: [V, H]; tokens: [M] int64. Returns {logprobs [M], entropy [M]}.
  // keep_logits: make all logits in one GEMM and save them for the backward.
  static variable_list forward(AutogradContext* ctx, torch::Tensor hidden, torch::Tensor weight,
                               torch::Tensor tokens, double inv_temperature, int64_t chunk_rows, bool keep_logits) {
    const int64_t m = hidden.size(0);
    auto opts = hidden.options().dtype(torch::kFloat32);
    auto logprobs = torch::empty({m}, opts), entropy = torch::empty({m}, opts);
    auto row_max = torch::empty({m, 1}, opts), lse = torch::empty({m, 1}, opts);
    const auto logits = keep_logits ? chunk_logits(hidden, weight) : torch::Tensor();
    for (int64_t a = 0; a < m; a += chunk_rows) {
      const int64_t b = std::min(m, a + chunk_rows);
      const auto z = keep_logits ? logits.slice(0, a, b) : chunk_logits(hidden.slice(0, a, b), weight);
#ifdef GRPO_WITH_CUDA
      if (logprob_rows_apply(z)) {  // bf16 on CUDA: one pass over the chunk's logits
        logprob_rows_forward(z, tokens.slice(0, a, b), inv_temperature, logprobs.slice(0, a, b),
                             entropy.slice(0, a, b), row_max.slice(0, a, b), lse.slice(0, a, b));
        continue;
      }
#endif
      auto log_p = scaled(z, inv_temperature, /*preserve_z=*/keep_logits);
      shift_to_log_softmax(log_p, row_max.slice(0, a, b), lse.slice(0, a, b), /*measure=*/true);
      logprobs.slice(0, a, b).copy_(log_p.gather(1, tokens.slice(0, a, b).unsqueeze(1)).squeeze(1));
      entropy.slice(0, a, b).copy_(-(log_p.exp().mul_(log_p)).sum(-1));
    }
    ctx->save_for_backward({hidden, weight, tokens, row_max, lse, entropy, logits});
    ctx->saved_data["inv_temperature"] = inv_temperature;
    ctx->saved_data["chunk_rows"] = chunk_rows;
    ctx->set_materialize_grads(false);
    return {logprobs, entropy};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &hidden = saved[0], &weight = saved[1], &tokens = saved[2];
    const auto &row_max = saved[3], &lse = saved[4], &entropy = saved[5];
    auto logits = saved[6];
    const double inv_t = ctx->saved_data["inv_temperature"].toDouble();
    const int64_t chunk_rows = ctx->saved_data["chunk_rows"].toInt();
    const auto& g_lp = grads[0];
    const auto& g_h = grads[1];
    const bool want_hidden = ctx->needs_input_grad(0), want_weight = ctx->needs_input_grad(1);
    torch::Tensor grad_hidden, grad_weight;
    const variable_list none(6);
    if ((!g_lp.defined() && !g_h.defined()) || (!want_hidden && !want_weight)) return none;
    auto upstream = [](const torch::Tensor& g, int64_t a, int64_t b) { return g.defined() ? g.slice(0, a, b) : g; };
    const int64_t m = hidden.size(0);

    // Kept logits: the gradient overwrites them (so a second backward through this graph, with
    // retain_graph, fails LibTorch's in-place check; set keep_logits_bytes = 0 for that), then
    // one GEMM per input.
    if (logits.defined()) {
      for (int64_t a = 0; a < m; a += chunk_rows) {
        const int64_t b = std::min(m, a + chunk_rows);
        auto z = logits.slice(0, a, b);
        logits_to_gradient(z, tokens.slice(0, a, b), inv_t, row_max.slice(0, a, b), lse.slice(0, a, b),
                           entropy.slice(0, a, b), upstream(g_lp, a, b), upstream(g_h, a, b));
      }
      if (want_hidden) grad_hidden = torch::mm(logits, weight);
      if (want_weight) grad_weight = accumulate_matmul_gradient(weight, logits.t(), hidden);
      return {grad_hidden, grad_weight, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }

    if (want_hidden) grad_hidden = torch::empty_like(hidden);
    // float32 accumulator across chunks, so a bf16 weight's gradient is not rounded per chunk.
    if (want_weight) grad_weight = torch::zeros(weight.sizes(), weight.options().dtype(torch::kFloat32));
    for (int64_t a = 0; a < m; a += chunk_rows) {
      const int64_t b = std::min(m, a + chunk_rows);
      const auto h = hidden.slice(0, a, b);
      auto grad_z = chunk_logits(h, weight);  // recomputed, then overwritten with its gradient
      logits_to_gradient(grad_z, tokens.slice(0, a, b), inv_t, row_max.slice(0, a, b), lse.slice(0, a, b),
                         entropy.slice(0, a, b), upstream(g_lp, a, b), upstream(g_h, a, b));
      if (want_hidden) {
        auto rows = grad_hidden.slice(0, a, b);
        torch::mm_out(rows, grad_z, weight);
      }
      // Accumulated in float32 in place: no [V, H] temporary per chunk.
      if (want_weight) compat::addmm_into_float32_(grad_weight, grad_z.t(), h);
    }
    if (want_weight) grad_weight = accumulate_gradient(weight, grad_weight.to(weight.scalar_type()));
    return {grad_hidden, grad_weight, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// Puts per-row values [M] back at their positions of a zero [N, T] tensor (differentiably).
torch::Tensor scatter_rows(const torch::Tensor& values, const SelectedRows& rows, int64_t n, int64_t t) {
  if (!rows.index.defined()) return values.reshape({n, t});
  return torch::zeros({n * t}, values.options()).index_copy(0, rows.index, values).reshape({n, t});
}

double checked_inverse_temperature(double temperature) {
  require(temperature > 0.0, "temperature: expected a value > 0, got " + std::to_string(temperature));
  return 1.0 / temperature;
}

}  // namespace

TokenLogProbs chunked_token_logprobs(const torch::Tensor& hidden, const torch::Tensor& lm_head,
                                     const torch::Tensor& tokens, const torch::Tensor& mask,
                                     const TokenLogProbOptions& options) {
  const double inv_t = checked_inverse_temperature(options.temperature);
  require(options.chunk_rows > 0,
          "chunk_rows: expected a value > 0, got " + std::to_string(options.chunk_rows));
  const auto rows = select_rows(hidden, lm_head, tokens, mask);
  const bool backward_follows =
      torch::GradMode::is_enabled() && (rows.hidden.requires_grad() || lm_head.requires_grad());
  const int64_t logits_bytes = rows.hidden.size(0) * lm_head.size(0) * static_cast<int64_t>(rows.hidden.element_size());
  const bool keep_logits = backward_follows && logits_bytes <= options.keep_logits_bytes;
  const auto out = ChunkedLogProbFunction::apply(rows.hidden, lm_head, rows.tokens, inv_t, options.chunk_rows,
                                                 keep_logits);
  const int64_t n = hidden.size(0), t = hidden.size(1);
  return {scatter_rows(out[0], rows, n, t), scatter_rows(out[1], rows, n, t)};
}

TokenLogProbs full_logits_token_logprobs(const torch::Tensor& hidden, const torch::Tensor& lm_head,
                                         const torch::Tensor& tokens, const torch::Tensor& mask,
                                         double temperature) {
  const double inv_t = checked_inverse_temperature(temperature);
  const auto rows = select_rows(hidden, lm_head, tokens, mask);
  const auto logits = torch::matmul(rows.hidden, lm_head.t()).to(torch::kFloat32) * inv_t;
  const auto log_p = torch::log_softmax(logits, -1);
  const auto logprobs = log_p.gather(1, rows.tokens.unsqueeze(1)).squeeze(1);
  const auto entropy = -(log_p.exp() * log_p).sum(-1);
  const int64_t n = hidden.size(0), t = hidden.size(1);
  return {scatter_rows(logprobs, rows, n, t), scatter_rows(entropy, rows, n, t)};
}

}  // namespace grpo::rl
