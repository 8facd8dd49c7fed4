// Global-norm gradient clipping that reports the norm and refuses non-finite gradients, and the
// optimizer step built on it: a NaN/inf loss or gradient skips the step (gradients are dropped,
// weights and optimizer state stay as they were) instead of poisoning the weights, and the
// caller logs the skip and continues. The clip never rewrites the gradients: the optimizer
// multiplies them by the clip factor as it reads them (one pass fewer over every gradient). A
// loss scale (fp16 training multiplies the loss by it, so the gradients hold gradient × scale) is
// taken out the same way: measured norms are divided by it and the optimizer reads the gradients
// times clip / scale, so they are never rewritten either. Not here: choosing the loss scale
// (StageOptimizer), cross-rank all-reduce (with data parallelism, reduce gradients before
// calling these, so every rank measures the same global norm).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "rl/learner/optimizer.h"

namespace grpo::rl {

struct GradNormReport {
  double norm = 0.0;     // L2 norm over every gradient, before clipping (may be inf/nan)
  bool finite = true;    // false: some gradient holds inf or nan
  bool clipped = false;  // the norm exceeds max_norm: the step uses the gradients times `scale`
  double scale = 1.0;    // max_norm / (norm + 1e-6) when clipped, else 1
};

// grads: the gradients, any float dtype, holding gradient × loss_scale; undefined ones are
// ignored. The reported norm is the true one (divided by loss_scale). max_norm <= 0 measures
// without clipping. The norm is accumulated in float32 whatever the gradients' dtype, and
// reading it is the step's one host sync.
GradNormReport measure_grad_norm(const std::vector<torch::Tensor>& grads, double max_norm, double loss_scale = 1.0);

struct StepReport {
  GradNormReport grad;
  bool skipped = false;  // the loss or a gradient was not finite: no update happened
};

// Measures the gradients (inputs.grads, or with none given the parameters' .grad), then steps the
// optimizer with the clip factor unless the loss or the gradients are non-finite. The caller
// zeroes the gradients afterwards either way (model::MasterWeights::zero_grad). loss: the 0-dim
// value just back-propagated (its sum over micro-batches), unscaled. loss_scale: what the
// back-propagated loss was multiplied by (1 without loss scaling); a power of two keeps the
// unscaling exact. norm_over: the gradients whose norm decides the clip and the skip when they
// are more than the step reads (ZeRO-1: every gradient, while this rank steps its shard); empty:
// inputs.grads.
StepReport guarded_step(AdamW& optimizer, AdamWStep inputs, double max_norm, double loss, double loss_scale = 1.0,
                        const std::vector<torch::Tensor>& norm_over = {});

}  // namespace grpo::rl
