// Chunked full-vocabulary reverse KL with a chunked backward; see reverse_kl.h.
//
// Per row, with z the student's logits, log p_s = log_softmax(z), a = log p_s − log p_t and
// KL = Σ p_s·a:  ∂KL/∂z_j = Σ_v (∂p_v/∂z_j)·a_v + Σ_v p_v·∂(log p_v)/∂z_j
//                        = p_j·(a_j − KL) + 0,
// since ∂p_v/∂z_j = p_v(δ_vj − p_j) and Σ_v p_v(δ_vj − p_j) = 0.
#include "rl/trainer/reverse_kl.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace grpo::rl {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Float32 log-softmax over the first `vocab` logits of one chunk: [c, vocab].
torch::Tensor chunk_log_softmax(const torch::Tensor& h, const torch::Tensor& head, int64_t vocab) {
  return torch::log_softmax(torch::matmul(h, head.narrow(0, 0, vocab).t()).to(torch::kFloat32), 1);
}

struct ReverseKlFunction : public torch::autograd::Function<ReverseKlFunction> {
  // hs: [M, Hs]; ws: [Vs, Hs]; ht: [M, Ht]; wt: [Vt, Ht]. Returns KL per row [M] float32.
  static variable_list forward(AutogradContext* ctx, torch::Tensor hs, torch::Tensor ws, torch::Tensor ht,
                               torch::Tensor wt, int64_t vocab, int64_t chunk_rows) {
    const int64_t m = hs.size(0);
    auto kl = torch::empty({m}, hs.options().dtype(torch::kFloat32));
    for (int64_t a = 0; a < m; a += chunk_rows) {
      const int64_t b = std::min(m, a + chunk_rows);
      const auto log_ps = chunk_log_softmax(hs.slice(0, a, b), ws, vocab);
      const auto log_pt = chunk_log_softmax(ht.slice(0, a, b), wt, vocab);
      kl.slice(0, a, b).copy_((log_ps.exp() * (log_ps - log_pt)).sum(1));
    }
    ctx->save_for_backward({hs, ws, ht, wt, kl});
    ctx->saved_data["vocab"] = vocab;
    ctx->saved_data["chunk_rows"] = chunk_rows;
    return {kl};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &hs = saved[0], &ws = saved[1], &ht = saved[2], &wt = saved[3], &kl = saved[4];
    const int64_t vocab = ctx->saved_data["vocab"].toInt();
    const int64_t chunk_rows = ctx->saved_data["chunk_rows"].toInt();
    const auto& g = grads[0];
    const bool want_hidden = ctx->needs_input_grad(0), want_head = ctx->needs_input_grad(1);
    torch::Tensor grad_hidden, grad_head;
    if (want_hidden) grad_hidden = torch::empty_like(hs);
    // float32 accumulator across chunks, so a bf16 head's gradient is not rounded per chunk.
    if (want_head) grad_head = torch::zeros(ws.sizes(), ws.options().dtype(torch::kFloat32));
    const auto head = ws.narrow(0, 0, vocab);
    const int64_t m = hs.size(0);
    for (int64_t a = 0; a < m && (want_hidden || want_head); a += chunk_rows) {
      const int64_t b = std::min(m, a + chunk_rows);
      const auto h = hs.slice(0, a, b);
      auto diff = chunk_log_softmax(h, ws, vocab);
      const auto p = diff.exp();
      diff.sub_(chunk_log_softmax(ht.slice(0, a, b), wt, vocab)).sub_(kl.slice(0, a, b).unsqueeze(1));
      const auto grad_z = diff.mul_(p).mul_(g.slice(0, a, b).unsqueeze(1));
      if (want_hidden) grad_hidden.slice(0, a, b).copy_(torch::matmul(grad_z.to(hs.scalar_type()), head));
      if (want_head) grad_head.narrow(0, 0, vocab).addmm_(grad_z.t(), h.to(torch::kFloat32));
    }
    if (want_head) grad_head = grad_head.to(ws.scalar_type());
    return {grad_hidden, grad_head, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

}  // namespace

torch::Tensor chunked_reverse_kl(const torch::Tensor& student_hidden, const torch::Tensor& student_head,
                                 const torch::Tensor& teacher_hidden, const torch::Tensor& teacher_head,
                                 const torch::Tensor& mask, int64_t chunk_rows) {
  require(chunk_rows > 0, "chunked_reverse_kl: chunk_rows must be > 0");
  require(student_hidden.dim() == 3 && teacher_hidden.dim() == 3 && mask.dim() == 2,
          "chunked_reverse_kl: expected hidden states [N, T, H] and a mask [N, T]");
  const int64_t n = student_hidden.size(0), t = student_hidden.size(1);
  require(teacher_hidden.size(0) == n && teacher_hidden.size(1) == t && mask.size(0) == n && mask.size(1) == t,
          "chunked_reverse_kl: student hidden " + shape_of(student_hidden) + ", teacher hidden " +
              shape_of(teacher_hidden) + " and mask " + shape_of(mask) + " must agree in [N, T]");
  require(student_head.dim() == 2 && student_head.size(1) == student_hidden.size(2),
          "chunked_reverse_kl: student head " + shape_of(student_head) + " does not match hidden width " +
              std::to_string(student_hidden.size(2)));
  require(teacher_head.dim() == 2 && teacher_head.size(1) == teacher_hidden.size(2),
          "chunked_reverse_kl: teacher head " + shape_of(teacher_head) + " does not match hidden width " +
              std::to_string(teacher_hidden.size(2)));
  const int64_t vocab = std::min(student_head.size(0), teacher_head.size(0));
  const auto index = torch::nonzero(mask.reshape({n * t}) != 0).squeeze(1);
  const auto hs = student_hidden.reshape({n * t, student_hidden.size(2)}).index_select(0, index);
  const auto ht = teacher_hidden.detach().reshape({n * t, teacher_hidden.size(2)}).index_select(0, index);
  const auto kl = ReverseKlFunction::apply(hs, student_head, ht, teacher_head.detach(), vocab, chunk_rows)[0];
  return torch::zeros({n * t}, kl.options()).index_copy(0, index, kl).reshape({n, t});
}

}  // namespace grpo::rl
