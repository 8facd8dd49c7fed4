// The learner's optimizer and learning-rate schedule as small pieces: AdamW over groups of
// tensors (each group with its own weight decay; the trainers hand it the two flat float32
// buffers of model::MasterWeights, matrices decayed and vectors not, as in nanoGPT and most
// recipes), and the schedule as a pure function of the step. The schedule is applied by calling
// set_lr() before each step; the optimizer counts its own steps (for the bias corrections) and
// saves them with its moments, so a resumed run continues exactly. A step may read the gradients
// from elsewhere than .grad (a bf16 model's gradient buffer), scale them (clipping) and refresh
// lower-precision copies of the parameters (a bf16 model's weights over float32 masters). On
// CUDA each float32 parameter's update is one pass (fused_adamw.h); elsewhere the same formula
// runs as plain tensor ops. Under ZeRO-1 its parameters are this rank's shards of the masters
// (StageOptimizer). Not here: the gradient norm (grad_clip.h), cutting or gathering shards.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "core/registry.h"

namespace grpo::rl {

struct AdamWOptions {
  double lr = 1e-6;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

struct AdamWGroup {
  std::vector<torch::Tensor> params;  // leaves; their .grad is read, their data updated in place
  double weight_decay = 0.0;          // decoupled, >= 0: each group carries its own
};

// Matrices (dim >= 2) decayed with weight_decay, everything else not: [decayed, plain].
std::vector<AdamWGroup> make_decay_groups(const std::vector<torch::Tensor>& params, double weight_decay);

// What one step reads besides the parameters and moments, and what else it writes.
struct AdamWStep {
  // One per parameter, in group order, any float dtype; empty: each parameter's .grad.
  std::vector<torch::Tensor> grads;
  double grad_scale = 1.0;  // the gradients are used multiplied by this (a clip factor)
  // Empty, or one per parameter: each receives its updated parameter in its own dtype.
  std::vector<torch::Tensor> rounded;
};

class AdamW {
 public:
  AdamW(std::vector<AdamWGroup> groups, const AdamWOptions& options);

  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }
  int64_t steps_taken() const { return steps_; }
  const std::vector<AdamWGroup>& groups() const { return groups_; }

  // One update of every parameter that has a gradient, with g = gradient·grad_scale:
  //   m ← β1·m + (1-β1)·g,  v ← β2·v + (1-β2)·g²,  p ← p·(1 - lr·wd) - lr·(m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + eps)
  void step(const AdamWStep& inputs = {});

  // optimizer.pt: state(), the step count then both moments of each parameter in group order.
  // load() checks that the saved tensors have the shapes of this optimizer's parameters and
  // names the file when they do not.
  void save(const std::string& path) const;
  void load(const std::string& path);
  // What save() writes and load() reads, in memory ([steps, m, v, m, v, ...]); set_state checks
  // it as load() does, naming `source`.
  std::vector<torch::Tensor> state() const;
  void set_state(const std::vector<torch::Tensor>& tensors, const std::string& source);
  // Bytes of the moments held.
  int64_t state_bytes() const;

 private:
  std::vector<AdamWGroup> groups_;
  std::vector<std::vector<torch::Tensor>> exp_avg_, exp_avg_sq_;  // per group, per parameter
  AdamWOptions options_;
  int64_t steps_ = 0;
};

struct ScheduleOptions {
  double base_lr = 1e-6;
  int64_t warmup_steps = 0;  // linear warmup length
  int64_t total_steps = 0;   // cosine: the step at which lr reaches min (required > warmup)
  std::string kind = "constant";  // what follows warmup: a name in lr_schedules()
  double min_lr_ratio = 0.0;      // cosine floor as a fraction of base_lr
};

// The learning rate at a step past warmup (step >= warmup_steps).
using LrScheduleFn = std::function<double(int64_t step, const ScheduleOptions& options)>;

// The schedules configs pick by name (optim.schedule):
//   constant  base_lr
//   cosine    min + (base - min)·½(1 + cos(π·progress)), progress = (step - warmup) /
//             (total - warmup) clamped to [0, 1], min = base·min_lr_ratio
const Registry<LrScheduleFn>& lr_schedules();

// Learning rate for optimizer step `step` (0-based). Warmup is lr·(step+1)/warmup_steps, so the
// first step already moves (a GRPO step costs a whole rollout; HF's schedule spends it at lr 0);
// then the schedule named options.kind (an unknown name is a grpo::Error listing the valid ones).
double learning_rate_at(int64_t step, const ScheduleOptions& options);

}  // namespace grpo::rl
