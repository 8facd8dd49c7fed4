// The optimizer every training stage (SFT, distillation, and GRPO's learner, whose optimizer steps
// are the minibatches of each rollout batch) drives the same way: the model's trainable
// parameters packed into flat float32 masters (model::MasterWeights: bf16 compute with float32
// masters on the GPU, plain float32 on the CPU), AdamW from the `optim:` section over the two
// master groups, the learning-rate schedule over the stage's total optimizer steps, and the
// guarded step (clip, skip non-finite). A float16 model also gets dynamic loss scaling, as
// PyTorch's GradScaler does it with its defaults: backward() multiplies the loss by the scale
// (2^16 at first), the step takes it out again (grad_clip.h), a step with inf/nan gradients is
// skipped and halves the scale, and 2000 finite steps in a row double it; float16's 5 fewer
// exponent bits would otherwise flush small gradients to zero. bf16 and float32 need none (scale
// 1). Checkpoints hold its state: optimizer.pt (moments and step count), for a bf16/fp16 model
// masters.pt (the unrounded weights), and with loss scaling loss_scale.pt, so a resume continues
// bit for bit.
// ZeRO-1 (a ProcessGroup given as shard_over): rank r keeps the float32 masters and AdamW moments
// of shard_of(n, r, W) of each flat group only (ceil(n / W) elements per rank in rank order, the
// last shorter). Every rank holds the whole gradients (summed over ranks before step()), measures
// the global norm from them, so the clip, the non-finite skip and the loss scale agree on every
// rank, steps its shard, and all-gathers the updated weights (rounded to the compute dtype, or
// the float32 weights themselves) into every rank's parameters, where a rollout engine sharing
// them sees them. Checkpoints hold whole groups in the files one process writes: every rank calls
// gather_shards() together, then rank 0's save() writes them; load() keeps each rank's shard of
// what it reads, so a run resumes at any world size.
// Not here: the loss, micro-batching (grad_accumulation.h), summing gradients over ranks.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "distributed/process_group.h"
#include "model/arch/mixed_precision.h"
#include "model/arch/transformer.h"
#include "rl/learner/grad_clip.h"
#include "rl/learner/optimizer.h"
#include "rl/trainer/grpo_settings.h"

namespace grpo::rl {

// Dynamic loss scaling (the defaults are torch.amp.GradScaler's).
struct LossScaling {
  bool enabled = false;
  double initial_scale = 65536.0;  // 2^16
  double growth_factor = 2.0, backoff_factor = 0.5;
  int64_t growth_interval = 2000;  // finite steps in a row before the scale grows
};

class StageOptimizer {
 public:
  // total_steps: optimizer steps of the stage (the cosine schedule ends there). Repacks the
  // model's parameters (see MasterWeights); build it before anything keeps views of them.
  // compute_dtype: what forward and backward run in (the run's dtype); the model is best
  // loaded at its checkpoint's precision and cast here, so the masters keep every bit of it.
  // Loss scaling is on for a float16 compute dtype unless `loss_scaling` says otherwise.
  // shard_over: ZeRO-1 over these ranks (not owned; outlives the optimizer); nullptr: this
  // process holds the whole state.
  StageOptimizer(model::CausalLM& model, const OptimSettings& optim, int64_t total_steps,
                 std::optional<torch::Dtype> compute_dtype = std::nullopt,
                 std::optional<LossScaling> loss_scaling = std::nullopt,
                 distributed::ProcessGroup* shard_over = nullptr);

  // Learning rate of the 1-based optimizer step `step`.
  double lr_at(int64_t step) const;
  // (loss × loss_scale()).backward() through MasterWeights::backward. Every stage
  // back-propagates through here so micro-batches accumulate in float32.
  void backward(const torch::Tensor& loss);
  // Sets lr_at(step), then clips and steps unless `loss` or a gradient is non-finite, publishes
  // the new weights to the model, and zeroes the gradients either way. loss: the value just
  // back-propagated, summed over micro-batches (unscaled). With loss scaling the scale then
  // backs off (a skipped step) or grows.
  StepReport step(int64_t step, double loss);
  // What backward() multiplies the loss by: 1 without loss scaling.
  double loss_scale() const { return loss_scaling_.enabled ? scale_ : 1.0; }

  // optimizer.pt (+ masters.pt for a bf16/fp16 model, + loss_scale.pt with loss scaling) in
  // `dir`; load() reads them back (ZeRO-1: this rank's shard of them). Sharded, only rank 0
  // saves: the state of its last gather_shards(), dropped once written (refused without one).
  void save(const std::filesystem::path& dir) const;
  void load(const std::filesystem::path& dir);
  // ZeRO-1: every rank's shards of the moments (and a mixed model's masters) into whole groups
  // held here for save(); a collective, so every rank calls it at the same point. Nothing to do
  // without sharding.
  void gather_shards();
  // Bytes of optimizer state this rank holds: the AdamW moments, plus a mixed model's float32
  // masters (a float32 model's masters are its weights).
  int64_t state_bytes() const;

  const AdamW& optimizer() const { return *optimizer_; }
  const model::MasterWeights& masters() const { return masters_; }
  // Writable: data-parallel learners sum the gradients over ranks before step().
  model::MasterWeights& masters() { return masters_; }

 private:
  model::MasterWeights masters_;
  std::unique_ptr<AdamW> optimizer_;
  ScheduleOptions schedule_;
  double max_grad_norm_;
  LossScaling loss_scaling_;
  double scale_ = 1.0;
  int64_t finite_steps_in_a_row_ = 0;
  distributed::ProcessGroup* shard_over_;
  // Rank 0, from gather_shards() to save(): optimizer.pt's tensors and the masters, whole.
  mutable std::vector<torch::Tensor> gathered_state_, gathered_masters_;
};

}  // namespace grpo::rl
