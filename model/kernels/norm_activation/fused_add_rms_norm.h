// The residual add and the following RMSNorm of a decode step as one CUDA kernel
// (add_rms_norm_kernel.h), inference only: the unfused pair is an add kernel and an RMSNorm kernel
// that reads back the residual the add wrote. Compiled in CUDA builds only; add_and_norm_
// (layers.h) dispatches here.
#pragma once

#include <torch/torch.h>

namespace grpo::model {

// residual, delta: [..., hidden]; weight: [hidden]. True when all three are bf16 on one CUDA
// device, residual and delta have the same shape with unit last-dim stride and leading dims that
// flatten to rows of one row stride (16-byte aligned, residual's rows not overlapping), weight is
// contiguous, the kernel supports hidden (a multiple of 8, at most 16384), and autograd would
// record nothing (no grad mode, or nothing requiring grad).
bool fused_add_rms_norm_applies(const torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight);

// residual += delta in place (rounded to bf16 as a bf16 add rounds), and returns
// rms_norm(residual, weight, eps) as a new contiguous tensor of residual's shape, rounded once
// as at::rms_norm rounds on CUDA. delta must not overlap residual's memory.
torch::Tensor fused_add_rms_norm_(torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& weight,
                                  double eps);

// The same with delta given as split-K partial sums: partials [S, rows, hidden] float32
// contiguous, rows as many as residual holds; residual += bf16(Σ_s partials[s]) (summed in s order,
// rounded once, as partials.sum(0).to(bf16) rounds).
bool fused_add_sum_rms_norm_applies(const torch::Tensor& residual, const torch::Tensor& partials,
                                    const torch::Tensor& weight);
torch::Tensor fused_add_sum_rms_norm_(torch::Tensor& residual, const torch::Tensor& partials,
                                      const torch::Tensor& weight, double eps);

}  // namespace grpo::model
