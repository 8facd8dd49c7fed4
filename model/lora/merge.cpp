// Folding adapters into weights; see merge.h.
#include "model/lora/merge.h"

#include <map>

#include "core/error.h"
#include "model/lora/lora_adapters.h"

namespace grpo::model {

torch::Tensor lora_weight_delta(const LoraSlice& slice) {
  torch::NoGradGuard no_grad;
  return torch::mm(slice.b.to(torch::kFloat32), slice.a.to(torch::kFloat32)).mul_(slice.scaling);
}

void merge_lora_(CausalLM& model) {
  torch::NoGradGuard no_grad;
  for (const auto& [linear, slice] : lora_adapters(model)) {
    auto rows = linear->weight.narrow(0, slice->row_offset, slice->b.size(0));
    rows.copy_(rows.to(torch::kFloat32) + lora_weight_delta(*slice));
    linear->set_lora_enabled(false);
  }
}

void publish_merged_lora(CausalLM& target, CausalLM& source) {
  torch::NoGradGuard no_grad;
  std::map<std::string, LinearImpl*> target_linears;
  for (const auto& item : target->named_modules())
    if (auto* linear = dynamic_cast<LinearImpl*>(item.value().get())) target_linears[item.key()] = linear;
  for (const auto& item : source->named_modules()) {
    auto* linear = dynamic_cast<LinearImpl*>(item.value().get());
    if (!linear || linear->lora().empty()) continue;
    const auto it = target_linears.find(item.key());
    require(it != target_linears.end(), "publish_merged_lora: the target model has no layer '" + item.key() + "'");
    for (const auto& slice : linear->lora()) {
      const int64_t rows = slice.b.size(0);
      auto base = linear->weight.narrow(0, slice.row_offset, rows).to(torch::kFloat32);
      it->second->weight.narrow(0, slice.row_offset, rows).copy_(base + lora_weight_delta(slice));
    }
  }
}

}  // namespace grpo::model
