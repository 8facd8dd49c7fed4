// The optimizer every training stage (SFT, distillation, and GRPO's learner, whose optimizer steps
// are the minibatches of each rollout batch) drives the same way: AdamW from the `optim:`
// section over a model's trainable parameters, the learning-rate schedule over the stage's total
// optimizer steps, and the guarded step (clip, skip non-finite).
// Not here: the loss, micro-batching (grad_accumulation.h), saving optimizer state (checkpoints.h).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "model/transformer.h"
#include "rl/learner/grad_clip.h"
#include "rl/learner/optimizer.h"
#include "rl/trainer/grpo_settings.h"

namespace grpo::rl {

class StageOptimizer {
 public:
  // total_steps: optimizer steps of the stage (the cosine schedule ends there).
  StageOptimizer(model::CausalLM& model, const OptimSettings& optim, int64_t total_steps);

  // Learning rate of the 1-based optimizer step `step`.
  double lr_at(int64_t step) const;
  // Sets lr_at(step), then clips and steps unless `loss` or a gradient is non-finite (gradients
  // are zeroed either way). loss: the value just back-propagated, summed over micro-batches.
  StepReport step(int64_t step, double loss);

  torch::optim::AdamW& optimizer() { return *optimizer_; }

 private:
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  ScheduleOptions schedule_;
  double max_grad_norm_;
};

}  // namespace grpo::rl
