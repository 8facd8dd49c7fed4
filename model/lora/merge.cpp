// Folding adapters into weights; see merge.h.
#include "model/lora/merge.h"

#include <map>

#include "core/error.h"
#include "model/lora/lora_adapters.h"

namespace grpo::model {

torch::Tensor lora_weight_delta(const LoraSlice& slice) {
  torch::NoGradGuard no_grad;
  return torch::matmul(slice.b.to(torch::kFloat32), slice.a.to(torch::kFloat32)).mul_(slice.scaling);
}

namespace {

// The rows of `weight` ([out, in], or a stack [E, out, in]) that `slice` adapts.
torch::Tensor adapted_rows(const torch::Tensor& weight, const LoraSlice& slice) {
  return weight.narrow(-2, slice.row_offset, slice.b.size(-2));
}

}  // namespace

void merge_lora_(CausalLM& model) {
  torch::NoGradGuard no_grad;
  for (const auto& adapter : lora_adapters(model)) {
    auto rows = adapted_rows(adapter.weight, *adapter.slice);
    rows.copy_(rows.to(torch::kFloat32) + lora_weight_delta(*adapter.slice));
  }
  set_lora_enabled(model, false);
}

void publish_merged_lora(CausalLM& target, CausalLM& source) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> target_weights;
  for (const auto& item : target->named_parameters()) target_weights.emplace(item.key(), item.value());
  for (const auto& adapter : lora_adapters(source)) {
    const auto it = target_weights.find(adapter.weight_name);
    require(it != target_weights.end(), "publish_merged_lora: the target model has no tensor '" + adapter.weight_name + "'");
    const auto base = adapted_rows(adapter.weight, *adapter.slice).to(torch::kFloat32);
    adapted_rows(it->second, *adapter.slice).copy_(base + lora_weight_delta(*adapter.slice));
  }
}

}  // namespace grpo::model
