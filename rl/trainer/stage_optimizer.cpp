// Flat masters + AdamW + schedule + guarded step for single-model stages; see stage_optimizer.h.
#include "rl/trainer/stage_optimizer.h"

#include <algorithm>

#include "core/error.h"

namespace grpo::rl {

StageOptimizer::StageOptimizer(model::CausalLM& model, const OptimSettings& optim, int64_t total_steps,
                               std::optional<torch::Dtype> compute_dtype, std::optional<LossScaling> loss_scaling)
    : masters_(model, compute_dtype), max_grad_norm_(optim.max_grad_norm) {
  if (loss_scaling) {
    loss_scaling_ = *loss_scaling;
  } else {
    loss_scaling_.enabled = compute_dtype == torch::kFloat16;
  }
  require(!loss_scaling_.enabled || (loss_scaling_.initial_scale > 0 && loss_scaling_.growth_factor > 1 &&
                                     loss_scaling_.backoff_factor > 0 && loss_scaling_.backoff_factor < 1 &&
                                     loss_scaling_.growth_interval > 0),
          "loss scaling: expected initial_scale > 0, growth_factor > 1, backoff_factor in (0, 1) and "
          "growth_interval > 0");
  scale_ = loss_scaling_.initial_scale;
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

void StageOptimizer::backward(const torch::Tensor& loss) {
  masters_.backward(loss_scaling_.enabled ? loss * scale_ : loss);
}

StepReport StageOptimizer::step(int64_t step, double loss) {
  optimizer_->set_lr(lr_at(step));
  AdamWStep inputs;
  inputs.grads = masters_.gradients();
  inputs.rounded = masters_.rounded_weights();  // a bf16 model's weights, refreshed by the same pass
  const auto report = guarded_step(*optimizer_, std::move(inputs), max_grad_norm_, loss, loss_scale());
  masters_.zero_grad();
  if (loss_scaling_.enabled) {
    if (!report.grad.finite) {  // overflow at this scale (a non-finite loss is no reason to back off)
      scale_ *= loss_scaling_.backoff_factor;
      finite_steps_in_a_row_ = 0;
    } else if (!report.skipped && ++finite_steps_in_a_row_ == loss_scaling_.growth_interval) {
      scale_ *= loss_scaling_.growth_factor;
      finite_steps_in_a_row_ = 0;
    }
  }
  return report;
}

void StageOptimizer::save(const std::filesystem::path& dir) const {
  optimizer_->save((dir / "optimizer.pt").string());
  if (masters_.mixed()) masters_.save((dir / "masters.pt").string());
  if (loss_scaling_.enabled)
    torch::save(torch::tensor({scale_, static_cast<double>(finite_steps_in_a_row_)}, torch::kFloat64),
                (dir / "loss_scale.pt").string());
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
  // A checkpoint without it (written without loss scaling) starts from the initial scale.
  const auto scale_file = dir / "loss_scale.pt";
  if (loss_scaling_.enabled && std::filesystem::exists(scale_file)) {
    torch::Tensor saved;
    torch::load(saved, scale_file.string());
    if (saved.numel() != 2 || !(saved[0].item<double>() > 0))
      throw Error(SourceLocation{scale_file.string(), 0, 0}, "expected [scale > 0, finite steps in a row]");
    scale_ = saved[0].item<double>();
    finite_steps_in_a_row_ = saved[1].item<int64_t>();
  }
}

}  // namespace grpo::rl
