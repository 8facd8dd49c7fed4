// Attaching adapters by module name and the scoped switch; see lora_adapters.h.
#include "model/lora/lora_adapters.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "core/strings.h"
#include "core/torch/device.h"
#include "model/arch/architecture.h"
#include "model/arch/tensor_names.h"

namespace grpo::model {
namespace {

std::string leaf_of(const std::string& module) { return module.substr(module.rfind('.') + 1); }

std::string strip_weight_suffix(const std::string& name) {
  const std::string suffix = std::string(".") + names::kWeight;
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return "";
  return name.substr(0, name.size() - suffix.size());
}

// The target name that selects a checkpoint tensor's module: its leaf, or experts.<leaf> for a
// routed expert.
std::string target_of(const TensorSpec& spec, const std::string& module) {
  return spec.expert >= 0 ? std::string(names::kExperts) + "." + leaf_of(module) : leaf_of(module);
}

// Why a matched module cannot carry an adapter under `settings`; "" when it can. Shared and routed
// experts and kv_b_proj are read directly by the decode path, past an adapter, so they need the
// engine's merged copy (policy.lora.rollout merged), whose weights hold the adapters' update.
std::string unsupported_reason(const TensorSpec& spec, const std::string& module, const LoraSettings& settings) {
  if (settings.rollout == "merged") return "";
  const char* merged_only = "; set policy.lora.rollout: merged (the rollout engine then runs a merged copy)";
  std::string what;
  if (spec.expert >= 0) what = "the MoE decode kernels read the routed experts' stacked weights";
  else if (module.find(std::string(".") + names::kSharedExperts + ".") != std::string::npos)
    what = "the MoE decode kernels read the shared experts' weights";
  else if (leaf_of(module) == names::kKvBProj) what = "MLA's cached decode absorbs kv_b_proj's weight into the attention";
  return what.empty() ? "" : "with policy.lora.rollout adapters, " + what + " directly, past an adapter" + merged_only;
}

// A [rank, in] float32 on the CPU from `generator`, as PEFT initialises lora_A.
torch::Tensor initial_a(const LoraSettings& s, int64_t in, at::Generator& generator) {
  auto a = torch::empty({s.rank, in}, torch::kFloat32);
  // kaiming_uniform_(a=√5) on fan_in = in gives bound gain·√(3/in) with gain √(2/(1+5)): 1/√in.
  if (s.init == "gaussian") a.normal_(0.0, 1.0 / static_cast<double>(s.rank), generator);
  else a.uniform_(-1.0 / std::sqrt(static_cast<double>(in)), 1.0 / std::sqrt(static_cast<double>(in)), generator);
  return a;
}

// The adapter of one checkpoint tensor [rows, in] (experts > 0: of that many experts, stacked).
LoraSlice make_slice(const LoraSettings& s, const std::string& module, int64_t row_offset, int64_t rows, int64_t in,
                     int64_t experts, const torch::TensorOptions& options, at::Generator& generator) {
  if (s.rank > std::min(rows, in))
    throw Error("policy.lora.rank " + std::to_string(s.rank) + " exceeds " + module + "'s min(in, out) = " +
                std::to_string(std::min(rows, in)));
  LoraSlice slice;
  slice.name = module;
  slice.row_offset = row_offset;
  if (experts == 0) {
    slice.a = initial_a(s, in, generator).to(options);
    slice.b = torch::zeros({rows, s.rank}, options);
  } else {
    std::vector<torch::Tensor> a;
    for (int64_t e = 0; e < experts; ++e) a.push_back(initial_a(s, in, generator));
    slice.a = torch::stack(a).to(options);
    slice.b = torch::zeros({experts, rows, s.rank}, options);
  }
  slice.a.requires_grad_(true);
  slice.b.requires_grad_(true);
  slice.scaling = s.scaling();
  slice.dropout = s.dropout;
  return slice;
}

// model.layers.1.mlp.experts.3.gate_proj -> model.layers.1.mlp.experts.gate_proj
std::string without_expert_index(const std::string& module) {
  const auto leaf_dot = module.rfind('.'), index_dot = module.rfind('.', leaf_dot - 1);
  return module.substr(0, index_dot) + module.substr(leaf_dot);
}

}  // namespace

std::vector<std::string> attach_lora(CausalLM& model, const LoraSettings& settings) {
  const auto problems = validate(settings);
  if (!problems.empty()) throw Error(join(problems, "\n"));
  std::map<std::string, LinearImpl*> linears;
  std::map<std::string, RoutedExpertsImpl*> expert_stacks;
  for (const auto& item : model->named_modules()) {
    if (auto* linear = dynamic_cast<LinearImpl*>(item.value().get())) linears[item.key()] = linear;
    if (auto* experts = dynamic_cast<RoutedExpertsImpl*>(item.value().get())) expert_stacks[item.key()] = experts;
  }
  for (auto& p : model->parameters()) p.set_requires_grad(false);

  const std::set<std::string> targets(settings.targets.begin(), settings.targets.end());
  const std::string layers_prefix = std::string(names::kModel) + "." + names::kLayers + ".";
  std::set<std::string> adaptable, matched;
  std::vector<std::string> attached;
  auto generator = make_generator(torch::kCPU, static_cast<uint64_t>(settings.seed));
  for (const auto& spec : tensor_table(model->config())) {
    const auto module = strip_weight_suffix(spec.name);
    const auto owner = strip_weight_suffix(spec.module_tensor());
    if (module.empty() || spec.shape.size() != 2 || module.rfind(layers_prefix, 0) != 0 ||
        is_mtp_tensor(model->config(), spec.name))
      continue;
    const bool routed_expert = spec.expert >= 0;  // a slice of a stacked tensor
    const auto stack_owner = routed_expert ? spec.module_tensor().substr(0, spec.module_tensor().rfind('.')) : "";
    if (routed_expert ? expert_stacks.count(stack_owner) == 0 : linears.count(owner) == 0) continue;
    const auto target = target_of(spec, module);
    adaptable.insert(target);
    if (!targets.count(target)) continue;
    matched.insert(target);
    const auto reason = unsupported_reason(spec, module, settings);
    if (!reason.empty()) throw Error("policy.lora.targets: '" + target + "' matches " + module + ", which LoRA cannot adapt: " + reason);
    const int64_t rows = spec.shape[0], in = spec.shape[1];
    if (routed_expert) {
      if (spec.expert > 0) continue;  // one stacked adapter per layer and projection, made at expert 0
      auto* experts = expert_stacks.at(stack_owner);
      const bool on_down = leaf_of(spec.module_tensor()) == names::kDownProj;
      const auto stacked_module = without_expert_index(module);
      const auto options = (on_down ? experts->down_proj : experts->gate_up_proj).options().requires_grad(false);
      experts->add_lora(make_slice(settings, stacked_module, spec.row_offset, rows, in,
                                   experts->gate_up_proj.size(0), options, generator), on_down);
      attached.push_back(stacked_module);
      continue;
    }
    auto* layer = linears.at(owner);
    const auto options = layer->weight.options().requires_grad(false);
    const int64_t row_offset = spec.module_tensor() == spec.name ? 0 : spec.row_offset;
    layer->add_lora(make_slice(settings, module, row_offset, rows, in, 0, options, generator));
    attached.push_back(module);
  }
  for (const auto& t : settings.targets)
    if (!matched.count(t))
      throw Error("policy.lora.targets: '" + t + "' matches no linear layer of this model; its layers are: " +
                  join(std::vector<std::string>(adaptable.begin(), adaptable.end()), ", "));
  return attached;
}

std::vector<LoraAdapterRef> lora_adapters(CausalLM& model) {
  std::vector<LoraAdapterRef> out;
  for (const auto& item : model->named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (auto* linear = dynamic_cast<LinearImpl*>(item.value().get()))
      for (const auto& slice : linear->lora())
        out.push_back({linear, &slice, item.key() + "." + names::kWeight, linear->weight});
    if (auto* experts = dynamic_cast<RoutedExpertsImpl*>(item.value().get())) {
      for (const auto& slice : experts->gate_up_lora())
        out.push_back({nullptr, &slice, item.key() + "." + names::kGateUpProj, experts->gate_up_proj});
      for (const auto& slice : experts->down_lora())
        out.push_back({nullptr, &slice, item.key() + "." + names::kDownProj, experts->down_proj});
    }
  }
  return out;
}

bool has_lora(CausalLM& model) { return !lora_adapters(model).empty(); }

void set_lora_enabled(CausalLM& model, bool on) {
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (auto* linear = dynamic_cast<LinearImpl*>(module.get())) linear->set_lora_enabled(on);
    if (auto* experts = dynamic_cast<RoutedExpertsImpl*>(module.get())) experts->set_lora_enabled(on);
  }
}

LoraDisabled::LoraDisabled(CausalLM& model) {
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (auto* linear = dynamic_cast<LinearImpl*>(module.get())) linears_.emplace_back(linear, linear->lora_enabled());
    if (auto* experts = dynamic_cast<RoutedExpertsImpl*>(module.get()))
      experts_.emplace_back(experts, experts->lora_enabled());
  }
  set_lora_enabled(model, false);
}

LoraDisabled::~LoraDisabled() {
  for (auto& [linear, on] : linears_) linear->set_lora_enabled(on);
  for (auto& [experts, on] : experts_) experts->set_lora_enabled(on);
}

}  // namespace grpo::model
