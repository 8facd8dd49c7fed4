// Global-norm gradient clipping that reports the norm and refuses non-finite gradients, and the
// optimizer step built on it: a NaN/inf loss or gradient skips the step (gradients are dropped,
// weights and optimizer state stay as they were) instead of poisoning the weights, and the
// caller logs the skip and continues. Not here: loss scaling for fp16, cross-rank all-reduce
// (with data parallelism, reduce gradients before calling these).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "rl/learner/optimizer.h"

namespace grpo::rl {

struct GradNormReport {
  double norm = 0.0;     // L2 norm over every gradient, before clipping (may be inf/nan)
  bool finite = true;    // false: some gradient holds inf or nan; nothing was scaled
  bool clipped = false;  // gradients were scaled by max_norm / (norm + 1e-6)
};

// params: the trainable tensors; those without a gradient are ignored. max_norm <= 0 measures
// without clipping. The norm is accumulated in float32 whatever the gradients' dtype.
GradNormReport clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

struct StepReport {
  GradNormReport grad;
  bool skipped = false;  // the loss or a gradient was not finite: no update happened
};

// Clips, then steps the optimizer unless the loss or the gradients are non-finite. The caller
// zeroes the gradients afterwards either way (model::MasterWeights::zero_grad). loss: the 0-dim
// value just back-propagated (its sum over micro-batches).
StepReport guarded_step(AdamW& optimizer, const std::vector<torch::Tensor>& params, double max_norm, double loss);

}  // namespace grpo::rl
