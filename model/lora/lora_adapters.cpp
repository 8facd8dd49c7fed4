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

// Why a matched checkpoint tensor cannot carry an adapter; "" when it can.
std::string unsupported_reason(const TensorSpec& spec, const std::string& module) {
  if (spec.expert >= 0)
    return "routed experts are stacked tensors, not linear layers (LoRA covers dense MLPs and attention)";
  if (module.find(std::string(".") + names::kSharedExperts + ".") != std::string::npos)
    return "the shared experts' weights are read directly by the MoE decode kernels, past an adapter";
  if (leaf_of(module) == names::kKvBProj)
    return "MLA's cached decode absorbs kv_b_proj's weight into the attention, past an adapter";
  return "";
}

// A [rank, in] float32 on the CPU from `generator`, as PEFT initialises lora_A.
torch::Tensor initial_a(const LoraSettings& s, int64_t in, at::Generator& generator) {
  auto a = torch::empty({s.rank, in}, torch::kFloat32);
  // kaiming_uniform_(a=√5) on fan_in = in gives bound gain·√(3/in) with gain √(2/(1+5)): 1/√in.
  if (s.init == "gaussian") a.normal_(0.0, 1.0 / static_cast<double>(s.rank), generator);
  else a.uniform_(-1.0 / std::sqrt(static_cast<double>(in)), 1.0 / std::sqrt(static_cast<double>(in)), generator);
  return a;
}

}  // namespace

std::vector<std::string> attach_lora(CausalLM& model, const LoraSettings& settings) {
  const auto problems = validate(settings);
  if (!problems.empty()) throw Error(join(problems, "\n"));
  std::map<std::string, LinearImpl*> linears;
  for (const auto& item : model->named_modules())
    if (auto* linear = dynamic_cast<LinearImpl*>(item.value().get())) linears[item.key()] = linear;
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
    const bool routed_expert = spec.expert >= 0;  // a slice of a stacked tensor: matched, then refused
    if (!routed_expert && linears.count(owner) == 0) continue;
    const auto leaf = leaf_of(module);
    adaptable.insert(leaf);
    if (!targets.count(leaf)) continue;
    matched.insert(leaf);
    const auto reason = unsupported_reason(spec, module);
    if (!reason.empty()) throw Error("policy.lora.targets: '" + leaf + "' matches " + module + ", which LoRA cannot adapt: " + reason);
    const int64_t rows = spec.shape[0], in = spec.shape[1];
    if (settings.rank > std::min(rows, in))
      throw Error("policy.lora.rank " + std::to_string(settings.rank) + " exceeds " + module + "'s min(in, out) = " +
                  std::to_string(std::min(rows, in)));
    auto* layer = linears.at(owner);
    const auto options = layer->weight.options().requires_grad(false);
    LoraSlice slice;
    slice.name = module;
    slice.row_offset = spec.module_tensor() == spec.name ? 0 : spec.row_offset;
    slice.a = initial_a(settings, in, generator).to(options).requires_grad_(true);
    slice.b = torch::zeros({rows, settings.rank}, options).requires_grad_(true);
    slice.scaling = settings.scaling();
    slice.dropout = settings.dropout;
    layer->add_lora(std::move(slice));
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
  for (const auto& module : model->modules(/*include_self=*/false))
    if (auto* linear = dynamic_cast<LinearImpl*>(module.get()))
      for (const auto& slice : linear->lora()) out.push_back({linear, &slice});
  return out;
}

bool has_lora(CausalLM& model) { return !lora_adapters(model).empty(); }

LoraDisabled::LoraDisabled(CausalLM& model) {
  for (const auto& module : model->modules(/*include_self=*/false))
    if (auto* linear = dynamic_cast<LinearImpl*>(module.get()); linear && !linear->lora().empty()) {
      previous_.emplace_back(linear, linear->lora_enabled());
      linear->set_lora_enabled(false);
    }
}

LoraDisabled::~LoraDisabled() {
  for (auto& [linear, on] : previous_) linear->set_lora_enabled(on);
}

}  // namespace grpo::model
