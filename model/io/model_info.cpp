// Parameter and cache accounting from the tensor table; see model_info.h.
#include "model/io/model_info.h"

#include <cstdio>
#include <sstream>

#include "model/arch/architecture.h"
#include "model/cache/cache.h"
#include "model/arch/tensor_names.h"

namespace grpo::model {
namespace {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool is_routed_expert(const std::string& name) {
  return name.find(std::string(".") + names::kExperts + ".") != std::string::npos;
}

std::string human(double n, const char* unit) {
  char buf[64];
  const char* suffix[] = {"", "K", "M", "G", "T"};
  int i = 0;
  while (n >= 1000.0 && i < 4) {
    n /= 1000.0;
    ++i;
  }
  std::snprintf(buf, sizeof buf, "%.3g %s%s", n, suffix[i], unit);
  return buf;
}

}  // namespace

ModelInfo describe_model(const ModelConfig& c, torch::Dtype cache_dtype) {
  ModelInfo info;
  std::ostringstream arch;
  arch << c.model_type << " (" << c.num_hidden_layers << " layers, hidden " << c.hidden_size << ", ";
  if (c.is_mla()) arch << "MLA " << c.num_attention_heads << " heads, kv_lora_rank " << c.kv_lora_rank;
  else arch << "GQA " << c.num_attention_heads << "/" << c.num_key_value_heads << " heads";
  if (c.n_routed_experts > 0)
    arch << ", DeepSeekMoE " << c.n_routed_experts << " experts top-" << c.num_experts_per_tok << ", "
         << c.n_shared_experts << " shared";
  if (c.num_nextn_predict_layers > 0) arch << ", MTP " << c.num_nextn_predict_layers;
  arch << ")";
  info.architecture = arch.str();
  int64_t routed = 0;
  for (const auto& spec : tensor_table(c)) {
    const int64_t n = numel(spec.shape);
    if (is_mtp_tensor(c, spec.name)) {
      info.params_mtp += n;
      continue;
    }
    info.params_total += n;
    if (is_routed_expert(spec.name)) routed += n;
  }
  // Each token runs top_k of the routed experts; all else is dense.
  const int64_t inactive = c.n_routed_experts > 0 ? routed / c.n_routed_experts * (c.n_routed_experts - c.num_experts_per_tok) : 0;
  info.params_active = info.params_total - inactive;
  info.cache_dtype = cache_dtype;
  info.cache_bytes_per_token = InferenceCache::bytes_per_token(c, cache_dtype);
  info.mha_cache_bytes_per_token = InferenceCache::mha_bytes_per_token(c, cache_dtype);
  return info;
}

std::string format_model_info(const ModelInfo& info) {
  std::ostringstream s;
  s << "architecture:      " << info.architecture << "\n";
  s << "parameters:        " << info.params_total << " (" << human(static_cast<double>(info.params_total), "") << ")\n";
  s << "active per token:  " << info.params_active << " (" << human(static_cast<double>(info.params_active), "") << ")\n";
  if (info.params_mtp > 0) s << "MTP parameters:    " << info.params_mtp << " (not counted above)\n";
  s << "cache per token:   " << info.cache_bytes_per_token << " bytes (" << c10::toString(info.cache_dtype) << ")\n";
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f%%",
                100.0 * static_cast<double>(info.cache_bytes_per_token) / static_cast<double>(info.mha_cache_bytes_per_token));
  s << "MHA cache would be: " << info.mha_cache_bytes_per_token << " bytes per token (this cache is " << ratio << " of it)\n";
  return s.str();
}

}  // namespace grpo::model
