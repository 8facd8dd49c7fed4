// The policy, KL reference and trainable-state figures of the GRPO step benchmark; see
// grpo_step_models.h.
#include "bench/rl/grpo_step_models.h"

#include <unordered_set>

#include "bench/common/model_shapes.h"
#include "core/error.h"
#include "core/strings.h"
#include "model/arch/tensor_names.h"
#include "model/lora/lora_adapters.h"

namespace grpo::bench {
namespace {

int64_t bytes_of(const std::vector<torch::Tensor>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.numel() * t.element_size();
  return n;
}

// The model's parameters, each once (a tied embedding and head is one tensor).
std::vector<torch::Tensor> distinct_parameters(model::CausalLM& m) {
  std::vector<torch::Tensor> out;
  std::unordered_set<const void*> seen;
  for (const auto& p : m->parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second) out.push_back(p);
  return out;
}

}  // namespace

std::vector<std::string> default_lora_targets(const model::ModelConfig& config) {
  namespace n = model::names;
  std::vector<std::string> targets;
  if (!config.is_mla()) targets = {n::kQProj, n::kKProj, n::kVProj, n::kOProj};
  else if (config.q_lora_rank > 0) targets = {n::kQAProj, n::kQBProj, n::kKvAProjWithMqa, n::kOProj};
  else targets = {n::kQProj, n::kKvAProjWithMqa, n::kOProj};
  bool any_moe = false;
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) any_moe = any_moe || config.is_moe_layer(layer);
  if (!any_moe) targets.insert(targets.end(), {n::kGateProj, n::kUpProj, n::kDownProj});
  return targets;
}

model::LoraSettings lora_settings(int64_t rank, double alpha, const std::string& targets_csv,
                                  const model::ModelConfig& config) {
  require(rank >= 0, "--lora-rank must be >= 0 (0 = LoRA off), got " + std::to_string(rank));
  model::LoraSettings s;
  if (rank == 0) {
    require(targets_csv.empty(), "--lora-targets needs --lora-rank > 0");
    return s;
  }
  s.rank = rank;
  s.alpha = alpha > 0 ? alpha : 2.0 * static_cast<double>(rank);
  if (targets_csv.empty()) s.targets = default_lora_targets(config);
  else
    for (const auto& t : split(targets_csv, ','))
      if (!trim(t).empty()) s.targets.push_back(trim(t));
  require(!s.targets.empty(), "--lora-targets '" + targets_csv + "' names no layer");
  return s;
}

model::CausalLM build_policy(const std::string& shape, const torch::Device& device, torch::Dtype dtype,
                             const model::LoraSettings& lora, bool gradient_checkpointing, uint64_t seed) {
  auto policy = random_model(shape, device, dtype, seed);
  policy->set_activation_checkpointing(gradient_checkpointing);
  if (lora.enabled()) model::attach_lora(policy, lora);
  return policy;
}

KlReference::KlReference(model::CausalLM& policy, double kl_beta, const std::function<model::CausalLM()>& make_copy)
    : enabled_(kl_beta > 0) {
  if (!enabled_ || model::has_lora(policy)) return;
  copy_ = make_copy();
  for (auto& p : copy_->parameters()) p.set_requires_grad(false);
  copy_->eval();
}

torch::Tensor KlReference::log_probs(const rl::GrpoLearner& learner, model::CausalLM& policy,
                                     const rl::SequenceBatch& sequences) {
  require(enabled_, "KlReference::log_probs: no reference (kl_beta is 0)");
  if (!copy_.is_empty()) return learner.score(copy_, sequences);
  model::LoraDisabled base(policy);
  return learner.score(policy, sequences);
}

int64_t KlReference::model_bytes() const {
  if (copy_.is_empty()) return 0;
  auto copy = copy_;
  return bytes_of(distinct_parameters(copy));
}

TrainableState trainable_state(model::CausalLM& policy, const rl::StageOptimizer& optimizer) {
  TrainableState s;
  const auto params = distinct_parameters(policy);
  for (const auto& p : params) (p.requires_grad() ? s.trainable_params : s.frozen_params) += p.numel();
  s.weight_bytes = bytes_of(params);
  const auto& masters = optimizer.masters().masters();
  s.master_bytes = bytes_of(masters);
  std::vector<torch::Tensor> master_grads;
  for (const auto& m : masters) master_grads.push_back(m.grad());
  s.optimizer_state_bytes = s.master_bytes + bytes_of(master_grads) + 2 * s.master_bytes;
  return s;
}

}  // namespace grpo::bench
