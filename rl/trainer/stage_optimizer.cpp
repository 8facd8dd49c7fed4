// Flat masters + AdamW + schedule + guarded step for single-model stages; see stage_optimizer.h.
#include "rl/trainer/stage_optimizer.h"

#include <algorithm>

#include "core/error.h"

namespace grpo::rl {

StageOptimizer::StageOptimizer(model::CausalLM& model, const OptimSettings& optim, int64_t total_steps,
                               std::optional<torch::Dtype> compute_dtype)
    : masters_(model, compute_dtype), max_grad_norm_(optim.max_grad_norm) {
  require(optim.betas.size() == 2, "optim.betas must hold two numbers");
  AdamWOptions ao;
  ao.lr = optim.lr;
  ao.beta1 = optim.betas[0];
  ao.beta2 = optim.betas[1];
  ao.eps = optim.eps;
  // MasterWeights' groups are [matrices, vectors]: only the first is decayed.
  std::vector<AdamWGroup> groups{{{masters_.masters()[0]}, optim.weight_decay}, {{masters_.masters()[1]}, 0.0}};
  optimizer_ = std::make_unique<AdamW>(std::move(groups), ao);
  schedule_.base_lr = optim.lr;
  schedule_.warmup_steps = optim.warmup_steps;
  schedule_.total_steps = std::max<int64_t>(total_steps, optim.warmup_steps + 1);
  schedule_.kind = optim.schedule;
  schedule_.min_lr_ratio = optim.min_lr_ratio;
}

double StageOptimizer::lr_at(int64_t step) const { return learning_rate_at(step - 1, schedule_); }

void StageOptimizer::backward(const torch::Tensor& loss) { masters_.backward(loss); }

StepReport StageOptimizer::step(int64_t step, double loss) {
  optimizer_->set_lr(lr_at(step));
  AdamWStep inputs;
  inputs.grads = masters_.gradients();
  inputs.rounded = masters_.rounded_weights();  // a bf16 model's weights, refreshed by the same pass
  const auto report = guarded_step(*optimizer_, std::move(inputs), max_grad_norm_, loss);
  masters_.zero_grad();
  return report;
}

void StageOptimizer::save(const std::filesystem::path& dir) const {
  optimizer_->save((dir / "optimizer.pt").string());
  if (masters_.mixed()) masters_.save((dir / "masters.pt").string());
}

void StageOptimizer::load(const std::filesystem::path& dir) {
  const auto state = dir / "optimizer.pt";
  if (!std::filesystem::exists(state))
    throw Error(SourceLocation{state.string(), 0, 0}, "checkpoint has no optimizer state");
  optimizer_->load(state.string());
  // A bf16 model resumed from a checkpoint without masters (e.g. one written by a float32 run)
  // starts its masters from the saved, rounded weights.
  const auto masters = dir / "masters.pt";
  if (masters_.mixed() && std::filesystem::exists(masters)) masters_.load(masters.string());
}

}  // namespace grpo::rl
