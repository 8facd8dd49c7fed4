// The learner's optimizer and learning-rate schedule as small functions: AdamW over the policy's
// parameters with weight decay on matrices only (norm gains and biases are not decayed, as in
// nanoGPT and most recipes), and the schedule as a pure function of the step. The schedule is
// applied by calling set_learning_rate() before each optimizer step; nothing here keeps a step
// counter, so a resumed run only needs the step number. Not here: saving optimizer state
// (checkpoints), fp32 master weights for bf16 models (mixed precision), ZeRO sharding.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace grpo::rl {

struct AdamWOptions {
  double lr = 1e-6;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // applied to parameters with 2+ dimensions only
};

// params: the trainable tensors (requires_grad). Two groups: [0] decayed (dim >= 2), [1] not.
std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<torch::Tensor>& params,
                                                const AdamWOptions& options);

// Sets lr on every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

enum class ScheduleKind { constant, cosine };

// "constant" | "cosine"; anything else is a grpo::Error listing the two.
ScheduleKind parse_schedule_kind(const std::string& name);

struct ScheduleOptions {
  double base_lr = 1e-6;
  int64_t warmup_steps = 0;  // linear warmup length
  int64_t total_steps = 0;   // cosine: the step at which lr reaches min (required > warmup)
  ScheduleKind kind = ScheduleKind::constant;
  double min_lr_ratio = 0.0;  // cosine floor as a fraction of base_lr
};

// Learning rate for optimizer step `step` (0-based). Warmup is lr·(step+1)/warmup_steps, so the
// first step already moves (a GRPO step costs a whole rollout; HF's schedule spends it at lr 0).
// Cosine after warmup: min + (base - min)·½(1 + cos(π·progress)), progress clamped to [0, 1].
double learning_rate_at(int64_t step, const ScheduleOptions& options);

}  // namespace grpo::rl
