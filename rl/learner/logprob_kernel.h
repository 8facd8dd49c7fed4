// One pass over a chunk's bf16 logits for the learner's token log-probs and entropies, forward
// and backward, on CUDA, with a plain-C++ interface (no LibTorch types) so that nvcc compiles it
// without the LibTorch headers.
//
// Per row, with s = z·inv_t in float32, m = max s, Z = Σ exp(s - m) and A = Σ exp(s - m)(s - m):
//   log p_y = s_y - m - log Z,   H = log Z - A / Z   (both terms >= 0: no cancellation),
// all from one read of the row (m, Z and A are kept online and merged across threads). The
// backward kernel reads the row again and overwrites it with the logit gradient in bf16,
//   ∂L/∂z_j = inv_t · (p_j · (-g_lp - g_H · (log p_j + H)) + g_lp · [j = y]),
// with log p_j = s_j - m - log Z from the forward's m and log Z, so the tensor-op path's float32
// logits, their three elementwise passes and the float32 gradient are never materialized.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace grpo::rl::kernels {

struct LogProbRowsArgs {
  void* logits = nullptr;  // [rows, vocab] bf16, contiguous; the backward overwrites it with ∂L/∂z
  const int64_t* tokens = nullptr;  // [rows]
  int rows = 0, vocab = 0;
  float inv_temperature = 1.f;
  // Per row, float32, contiguous. Forward writes all four; backward reads row_max, log_sum, entropy.
  float* logprobs = nullptr;
  float* entropy = nullptr;
  float* row_max = nullptr;  // m
  float* log_sum = nullptr;  // log Z
  // Backward: upstream gradients per row, either may be null (zero).
  const float* grad_logprobs = nullptr;
  const float* grad_entropy = nullptr;
};

cudaError_t launch_logprob_rows_forward(const LogProbRowsArgs& args, cudaStream_t stream);
cudaError_t launch_logprob_rows_backward(const LogProbRowsArgs& args, cudaStream_t stream);

}  // namespace grpo::rl::kernels
