// Flat masters + AdamW + schedule + guarded step for single-model stages; see stage_optimizer.h.
#include "rl/trainer/stage_optimizer.h"

#include <algorithm>

#include "core/error.h"
#include "core/torch/tensor_file.h"

namespace grpo::rl {

StageOptimizer::StageOptimizer(model::CausalLM& model, const OptimSettings& optim, int64_t total_steps,
                               std::optional<torch::Dtype> compute_dtype, std::optional<LossScaling> loss_scaling,
                               distributed::ProcessGroup* shard_over)
    : masters_(model, compute_dtype), max_grad_norm_(optim.max_grad_norm), shard_over_(shard_over) {
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
  if (shard_over_)
    for (size_t g = 0; g < masters_.masters().size(); ++g) {
      const auto shard = distributed::shard_of(masters_.group_numel(g), shard_over_->rank(), shard_over_->size());
      masters_.keep_shard(g, shard.begin, shard.size);
    }
  // MasterWeights' groups are [matrices, vectors]: only the first is decayed.
  std::vector<AdamWGroup> groups{{{masters_.owned(0)}, optim.weight_decay}, {{masters_.owned(1)}, 0.0}};
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
  const auto grads = masters_.gradients();
  const auto& rounded = masters_.rounded_weights();  // a bf16 model's weights, refreshed by the same pass
  AdamWStep inputs;
  for (size_t g = 0; g < grads.size(); ++g) {  // this rank's shard: every element without sharding
    const int64_t begin = masters_.owned_begin(g), size = masters_.owned(g).numel();
    inputs.grads.push_back(grads[g].narrow(0, begin, size));
    if (!rounded.empty()) inputs.rounded.push_back(rounded[g].narrow(0, begin, size));
  }
  // The norm over every gradient: each rank holds them all, so each clips and skips alike.
  const auto report = guarded_step(*optimizer_, std::move(inputs), max_grad_norm_, loss, loss_scale(), grads);
  if (shard_over_ && !report.skipped)
    for (size_t g = 0; g < grads.size(); ++g)
      shard_over_->all_gather_shards(rounded.empty() ? masters_.masters()[g] : rounded[g]);
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

void StageOptimizer::gather_shards() {
  if (!shard_over_) return;
  torch::NoGradGuard no_grad;
  // A shard's values put in place in a whole group of zeros, then every rank's shard gathered.
  auto whole = [&](const torch::Tensor& shard, size_t g) {
    auto full = torch::zeros({masters_.group_numel(g)}, shard.options().requires_grad(false));
    full.narrow(0, masters_.owned_begin(g), shard.numel()).copy_(shard.detach());
    shard_over_->all_gather_shards(full);
    return full;
  };
  const auto state = optimizer_->state();  // [steps, m, v per group]
  gathered_state_ = {state[0].clone()};
  for (size_t k = 1; k < state.size(); ++k) gathered_state_.push_back(whole(state[k], (k - 1) / 2));
  gathered_masters_.clear();
  if (masters_.mixed())
    for (size_t g = 0; g < masters_.masters().size(); ++g) gathered_masters_.push_back(whole(masters_.owned(g), g));
  if (shard_over_->rank() != 0) {  // only rank 0 writes: the others keep no whole copy
    gathered_state_.clear();
    gathered_masters_.clear();
  }
}

int64_t StageOptimizer::state_bytes() const {
  int64_t bytes = optimizer_->state_bytes();
  if (masters_.mixed())
    for (const auto& m : masters_.masters()) bytes += m.numel() * static_cast<int64_t>(m.element_size());
  return bytes;
}

void StageOptimizer::save(const std::filesystem::path& dir) const {
  if (shard_over_) {
    require(!gathered_state_.empty(),
            "StageOptimizer::save under ZeRO-1: call gather_shards() on every rank first (rank 0 writes)");
    write_tensor_list((dir / "optimizer.pt").string(), gathered_state_);
    if (masters_.mixed()) write_tensor_list((dir / "masters.pt").string(), gathered_masters_);
    gathered_state_.clear();  // the whole copy lives from the gather to this save only
    gathered_masters_.clear();
  } else {
    optimizer_->save((dir / "optimizer.pt").string());
    if (masters_.mixed()) masters_.save((dir / "masters.pt").string());
  }
  if (loss_scaling_.enabled)
    write_tensor_list((dir / "loss_scale.pt").string(),
                      {torch::tensor({scale_, static_cast<double>(finite_steps_in_a_row_)}, torch::kFloat64)});
}

void StageOptimizer::load(const std::filesystem::path& dir) {
  const auto state = dir / "optimizer.pt";
  if (!std::filesystem::exists(state))
    throw Error(SourceLocation{state.string(), 0, 0}, "checkpoint has no optimizer state");
  if (shard_over_) {  // whole groups on disk: keep this rank's shard of each moment
    auto tensors = read_tensor_list(state.string(), "optimizer state");
    for (size_t k = 1; k < tensors.size(); ++k) {
      const size_t g = (k - 1) / 2;
      if (g < masters_.masters().size() && tensors[k].dim() == 1 && tensors[k].numel() == masters_.group_numel(g))
        tensors[k] = tensors[k].narrow(0, masters_.owned_begin(g), masters_.owned(g).numel());
    }
    optimizer_->set_state(tensors, state.string());
  } else {
    optimizer_->load(state.string());
  }
  // A bf16 model resumed from a checkpoint without masters (e.g. one written by a float32 run)
  // starts its masters from the saved, rounded weights.
  const auto masters = dir / "masters.pt";
  if (masters_.mixed() && std::filesystem::exists(masters)) masters_.load(masters.string());
  // A checkpoint without it (written without loss scaling) starts from the initial scale.
  const auto scale_file = dir / "loss_scale.pt";
  if (loss_scaling_.enabled && std::filesystem::exists(scale_file)) {
    const auto tensors = read_tensor_list(scale_file.string(), "the loss scale");
    const auto saved = tensors.size() == 1 ? tensors[0] : torch::Tensor();
    if (!saved.defined() || saved.numel() != 2 || !(saved[0].item<double>() > 0))
      throw Error(SourceLocation{scale_file.string(), 0, 0}, "expected [scale > 0, finite steps in a row]");
    scale_ = saved[0].item<double>();
    finite_steps_in_a_row_ = saved[1].item<int64_t>();
  }
}

}  // namespace grpo::rl
