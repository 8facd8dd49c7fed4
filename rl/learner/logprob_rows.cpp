// The LibTorch side of the log-prob/entropy kernels; see logprob_rows.h.
#include "rl/learner/logprob_rows.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "rl/learner/logprob_kernel.h"

namespace grpo::rl {
namespace {

float* row_values(const torch::Tensor& t, int64_t rows, const char* name) {
  require(t.scalar_type() == torch::kFloat32 && t.is_contiguous() && t.numel() == rows,
          std::string("logprob rows: ") + name + " must be contiguous float32 with one value per row");
  return t.data_ptr<float>();
}

// An upstream gradient as a contiguous float32 [c] tensor (kept alive by the caller), or null.
const float* upstream(const torch::Tensor& grad, torch::Tensor& holder) {
  if (!grad.defined()) return nullptr;
  holder = grad.to(torch::kFloat32).contiguous();
  return holder.data_ptr<float>();
}

// The kernels' arguments for one chunk, with the per-row statistics both directions use. `ids`
// keeps a contiguous copy of the tokens alive for the launch.
kernels::LogProbRowsArgs rows_args(const torch::Tensor& logits, const torch::Tensor& tokens, double inv_temperature,
                                   const torch::Tensor& entropy, const torch::Tensor& row_max,
                                   const torch::Tensor& log_sum, torch::Tensor& ids) {
  require(logprob_rows_apply(logits), "logprob rows: expected contiguous bf16 CUDA logits [rows, vocab]");
  ids = tokens.contiguous();
  require(ids.scalar_type() == torch::kInt64 && ids.numel() == logits.size(0) && ids.device() == logits.device(),
          "logprob rows: tokens must be int64 [rows] on the logits' device");
  const int64_t rows = logits.size(0);
  kernels::LogProbRowsArgs a;
  a.logits = logits.data_ptr();
  a.tokens = ids.data_ptr<int64_t>();
  a.rows = static_cast<int>(rows);
  a.vocab = static_cast<int>(logits.size(1));
  a.inv_temperature = static_cast<float>(inv_temperature);
  a.entropy = row_values(entropy, rows, "entropy");
  a.row_max = row_values(row_max, rows, "row_max");
  a.log_sum = row_values(log_sum, rows, "log_sum");
  return a;
}

}  // namespace

bool logprob_rows_apply(const torch::Tensor& logits) {
  return logits.dim() == 2 && logits.is_cuda() && logits.scalar_type() == torch::kBFloat16 && logits.is_contiguous() &&
         logits.size(0) <= std::numeric_limits<int>::max() && logits.size(1) <= std::numeric_limits<int>::max();
}

void logprob_rows_forward(const torch::Tensor& logits, const torch::Tensor& tokens, double inv_temperature,
                          torch::Tensor logprobs, torch::Tensor entropy, torch::Tensor row_max, torch::Tensor log_sum) {
  torch::Tensor ids;
  auto a = rows_args(logits, tokens, inv_temperature, entropy, row_max, log_sum, ids);
  a.logprobs = row_values(logprobs, logits.size(0), "logprobs");
  const c10::cuda::CUDAGuard guard(logits.device());
  cuda::check_launch(kernels::launch_logprob_rows_forward(a, at::cuda::getCurrentCUDAStream()), "logprob rows forward");
}

void logprob_rows_backward(torch::Tensor& logits, const torch::Tensor& tokens, double inv_temperature,
                           const torch::Tensor& row_max, const torch::Tensor& log_sum, const torch::Tensor& entropy,
                           const torch::Tensor& grad_logprobs, const torch::Tensor& grad_entropy) {
  torch::Tensor ids, g_lp, g_h;
  auto a = rows_args(logits, tokens, inv_temperature, entropy, row_max, log_sum, ids);
  a.grad_logprobs = upstream(grad_logprobs, g_lp);
  a.grad_entropy = upstream(grad_entropy, g_h);
  const c10::cuda::CUDAGuard guard(logits.device());
  cuda::check_launch(kernels::launch_logprob_rows_backward(a, at::cuda::getCurrentCUDAStream()), "logprob rows backward");
}

}  // namespace grpo::rl
