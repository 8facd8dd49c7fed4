// The optimizer every training stage (SFT, distillation, and GRPO's learner, whose optimizer steps
// are the minibatches of each rollout batch) drives the same way: the model's trainable
// parameters packed into flat float32 masters (model::MasterWeights: bf16 compute with float32
// masters on the GPU, plain float32 on the CPU), AdamW from the `optim:` section over the two
// master groups, the learning-rate schedule over the stage's total optimizer steps, and the
// guarded step (clip, skip non-finite). Checkpoints hold its state: optimizer.pt (moments and
// step count) and, for a bf16 model, masters.pt (the unrounded weights), so a resume continues
// bit for bit. Not here: the loss, micro-batching (grad_accumulation.h).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "model/arch/mixed_precision.h"
#include "model/arch/transformer.h"
#include "rl/learner/grad_clip.h"
#include "rl/learner/optimizer.h"
#include "rl/trainer/grpo_settings.h"

namespace grpo::rl {

class StageOptimizer {
 public:
  // total_steps: optimizer steps of the stage (the cosine schedule ends there). Repacks the
  // model's parameters (see MasterWeights); build it before anything keeps views of them.
  // compute_dtype: what forward and backward run in (the run's dtype); the model is best
  // loaded at its checkpoint's precision and cast here, so the masters keep every bit of it.
  StageOptimizer(model::CausalLM& model, const OptimSettings& optim, int64_t total_steps,
                 std::optional<torch::Dtype> compute_dtype = std::nullopt);

  // Learning rate of the 1-based optimizer step `step`.
  double lr_at(int64_t step) const;
  // loss.backward() through MasterWeights::backward. Every stage back-propagates through here
  // so micro-batches accumulate in float32.
  void backward(const torch::Tensor& loss);
  // Sets lr_at(step), then clips and steps unless `loss` or a gradient is non-finite, publishes
  // the new weights to the model, and zeroes the gradients either way. loss: the value just
  // back-propagated, summed over micro-batches.
  StepReport step(int64_t step, double loss);

  // optimizer.pt (+ masters.pt for a bf16 model) in `dir`; load() reads them back.
  void save(const std::filesystem::path& dir) const;
  void load(const std::filesystem::path& dir);

  const AdamW& optimizer() const { return *optimizer_; }
  const model::MasterWeights& masters() const { return masters_; }
  // Writable: data-parallel learners sum the gradients over ranks before step().
  model::MasterWeights& masters() { return masters_; }

 private:
  model::MasterWeights masters_;
  std::unique_ptr<AdamW> optimizer_;
  ScheduleOptions schedule_;
  double max_grad_norm_;
};

}  // namespace grpo::rl
