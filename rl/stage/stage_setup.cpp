// Datasets, trained and frozen models, and the sampler of a training stage; see stage_setup.h.
#include "rl/stage/stage_setup.h"

#include "model/io/model_io.h"
#include "model/lora/lora_adapters.h"
#include "model/lora/peft_format.h"

namespace grpo::rl {
namespace {

// A model that only scores or samples: no gradients, eval mode.
void freeze(model::CausalLM& model) {
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  model->eval();
}

}  // namespace

std::vector<datasets::Record> read_records(const datasets::DataSourceSettings& source, int64_t limit) {
  auto records = datasets::read_dataset(source.path, datasets::read_options(source)).records;
  if (limit > 0 && static_cast<int64_t>(records.size()) > limit) records.resize(limit);
  return records;
}

std::vector<datasets::Record> read_eval_records(const DataSettings& data) {
  if (data.eval.path.empty()) return {};
  return read_records(data.eval, data.eval_limit);
}

policy::PolicyBundle load_policy(const PolicySettings& settings, const std::filesystem::path& model_dir,
                                 const std::string& tokenizer, const torch::Device& device, torch::Dtype dtype) {
  policy::PolicyLoad load;
  load.model_dir = model_dir;
  load.tokenizer = tokenizer;
  load.template_name = settings.template_name;
  load.system_prompt = settings.system_prompt;
  load.device = device;
  load.dtype = dtype;
  return policy::load_policy_bundle(load);
}

policy::PolicyBundle load_trained_policy(const PolicySettings& settings, const std::filesystem::path& model_dir,
                                         const std::string& tokenizer, const torch::Device& device) {
  if (!settings.lora.enabled()) {
    auto policy = load_policy(settings, model_dir, tokenizer, device, torch::kFloat32);
    policy.model->set_activation_checkpointing(settings.gradient_checkpointing);
    return policy;
  }
  // LoRA: model_dir is the base, or a checkpoint's adapter naming its base.
  const bool resumed = model::is_adapter_dir(model_dir);
  const auto base = resumed ? model::read_adapter_config(model_dir).base_model : std::filesystem::absolute(model_dir);
  auto policy = load_policy(settings, base, tokenizer, device, torch::kFloat32);
  policy.model->set_activation_checkpointing(settings.gradient_checkpointing);
  policy.source_dir = base;  // checkpoints name it as the adapters' base
  model::attach_lora(policy.model, settings.lora);
  if (resumed) model::load_adapter_weights(policy.model, model_dir);
  return policy;
}

model::CausalLM load_frozen_model(const std::filesystem::path& dir, const RunContext& run) {
  model::LoadOptions lo;
  lo.device = run.device;
  lo.dtype = run.dtype;
  auto model = model::load_model(dir, lo);
  freeze(model);
  return model;
}

policy::PolicyBundle load_teacher(const ExperimentConfig& cfg, const RunContext& run) {
  policy::PolicyLoad load;
  load.model_dir = cfg.distill.teacher;
  load.tokenizer = cfg.distill.teacher_tokenizer;
  load.template_name = cfg.distill.teacher_template.empty() ? cfg.policy.template_name : cfg.distill.teacher_template;
  load.system_prompt = cfg.policy.system_prompt;
  load.device = run.device;
  load.dtype = run.dtype;
  auto teacher = policy::load_policy_bundle(load);
  freeze(teacher.model);
  return teacher;
}

datasets::ShuffleSampler start_sampler(const RunContext& run, int64_t dataset_size, int64_t seed) {
  if (run.checkpoint && !run.state.data.empty())
    return datasets::ShuffleSampler(dataset_size, datasets::sampler_state_from_json(run.state.data));
  return datasets::ShuffleSampler(dataset_size, static_cast<uint64_t>(seed));
}

}  // namespace grpo::rl
