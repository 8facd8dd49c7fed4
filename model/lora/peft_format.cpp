// PEFT's adapter directory; see peft_format.h.
#include "model/lora/peft_format.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/run_directory.h"
#include "model/arch/tensor_names.h"
#include "model/io/safetensors.h"
#include "model/lora/lora_adapters.h"

namespace fs = std::filesystem;

namespace grpo::model {
namespace {

constexpr const char* kPeftPrefix = "base_model.model.";
constexpr const char* kVersionKey = "grpo_adapter_version";
constexpr const char* kVersion = "1";

std::string leaf_of(const std::string& module) { return module.substr(module.rfind('.') + 1); }

// One PEFT module of an adapter: its name on disk, its A [r, in] and B [out, r] (views into the
// adapter's tensors), and its target_modules entry.
struct PeftModule {
  std::string module, target;
  torch::Tensor a, b;
};

// A linear layer's adapter is one module; routed experts' stacked adapters are one module per
// expert, named as Hugging Face's DeepSeek checkpoints name each expert
// (model.layers.1.mlp.experts.3.gate_proj), with the target experts.3.gate_proj: a suffix that PEFT
// matches against that expert's module alone.
std::vector<PeftModule> peft_modules(const LoraAdapterRef& adapter) {
  const auto& s = *adapter.slice;
  if (adapter.linear) return {{s.name, leaf_of(s.name), s.a, s.b}};
  std::vector<PeftModule> out;
  const auto stack = s.name.substr(0, s.name.rfind('.')), leaf = leaf_of(s.name);
  for (int64_t e = 0; e < s.a.size(0); ++e) {
    const auto suffix = std::to_string(e) + "." + leaf;
    out.push_back({stack + "." + suffix, std::string(names::kExperts) + "." + suffix, s.a[e], s.b[e]});
  }
  return out;
}

std::string a_name(const PeftModule& m) { return kPeftPrefix + m.module + ".lora_A.weight"; }
std::string b_name(const PeftModule& m) { return kPeftPrefix + m.module + ".lora_B.weight"; }

// A target_modules entry as policy.lora.targets names it: experts.<e>.<leaf> -> experts.<leaf>.
std::string lora_target_of(const std::string& peft_target) {
  static const std::regex per_expert(std::string(names::kExperts) + "\\.[0-9]+\\.([A-Za-z_]+)");
  std::smatch m;
  return std::regex_match(peft_target, m, per_expert) ? std::string(names::kExperts) + "." + m[1].str() : peft_target;
}

}  // namespace

bool is_adapter_dir(const fs::path& dir) { return fs::exists(dir / kAdapterConfigFile); }

void save_adapter(CausalLM& model, const fs::path& base_model, const fs::path& dir) {
  const auto adapters = lora_adapters(model);
  require(!adapters.empty(), "save_adapter: the model has no LoRA adapters");
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::set<std::string> targets;
  for (const auto& adapter : adapters)
    for (const auto& m : peft_modules(adapter)) {
      tensors.emplace_back(a_name(m), m.a.detach().to(torch::kCPU).contiguous());
      tensors.emplace_back(b_name(m), m.b.detach().to(torch::kCPU).contiguous());
      targets.insert(m.target);
    }
  const auto& first = *adapters.front().slice;
  const int64_t rank = first.a.size(-2);
  const nlohmann::json config = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"base_model_name_or_path", base_model.string()},
      {"r", rank},
      {"lora_alpha", first.scaling * static_cast<double>(rank)},
      {"lora_dropout", first.dropout},
      {"target_modules", std::vector<std::string>(targets.begin(), targets.end())},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"use_rslora", false},
      {"use_dora", false},
      {"init_lora_weights", true},
      {"inference_mode", true},
      {"modules_to_save", nullptr},
      {"layers_to_transform", nullptr},
      {"rank_pattern", nlohmann::json::object()},
      {"alpha_pattern", nlohmann::json::object()},
  };
  fs::create_directories(dir);
  save_safetensors(dir / kAdapterWeightsFile, tensors, {{"format", "pt"}, {kVersionKey, kVersion}});
  write_file_atomic((dir / kAdapterConfigFile).string(), config.dump(2) + "\n");
}

AdapterConfig read_adapter_config(const fs::path& dir) {
  const auto path = dir / kAdapterConfigFile;
  const SourceLocation where{path.string(), 0, 0};
  std::ifstream in(path);
  if (!in) throw Error(where, "cannot open the adapter config");
  nlohmann::json js;
  try {
    js = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(where, std::string("malformed adapter config: ") + e.what());
  }
  auto need = [&](const char* key, nlohmann::json::value_t type_a, nlohmann::json::value_t type_b) -> const nlohmann::json& {
    if (!js.contains(key) || (js[key].type() != type_a && js[key].type() != type_b))
      throw Error(where, std::string("adapter config: '") + key + "' is missing or has the wrong type");
    return js[key];
  };
  using T = nlohmann::json::value_t;
  if (need("peft_type", T::string, T::string).get<std::string>() != "LORA")
    throw Error(where, "adapter config: peft_type must be LORA, got " + js["peft_type"].dump());
  AdapterConfig out;
  out.base_model = js.value("base_model_name_or_path", std::string());
  out.settings.rank = need("r", T::number_unsigned, T::number_integer).get<int64_t>();
  out.settings.alpha = need("lora_alpha", T::number_float, T::number_unsigned).get<double>();
  out.settings.dropout = js.value("lora_dropout", 0.0);
  out.settings.use_rslora = js.value("use_rslora", false);
  const auto& targets = need("target_modules", T::array, T::array);
  std::set<std::string> seen;
  for (const auto& t : targets) {
    if (!t.is_string()) throw Error(where, "adapter config: target_modules must list module names");
    const auto target = lora_target_of(t.get<std::string>());
    if (seen.insert(target).second) out.settings.targets.push_back(target);
  }
  if (js.value("bias", std::string("none")) != "none")
    throw Error(where, "adapter config: bias " + js["bias"].dump() + " is not supported (only \"none\")");
  if (js.value("use_dora", false)) throw Error(where, "adapter config: DoRA adapters are not supported");
  return out;
}

void load_adapter_weights(CausalLM& model, const fs::path& dir) {
  const auto path = dir / kAdapterWeightsFile;
  const auto file = SafetensorsFile::open(path);
  const auto version = file->metadata().find(kVersionKey);
  if (version != file->metadata().end() && version->second != kVersion)
    throw Error(SourceLocation{path.string(), 0, 0}, std::string(kVersionKey) + " " + version->second + " is not " + kVersion);
  std::set<std::string> expected;
  for (const auto& adapter : lora_adapters(model))
    for (const auto& m : peft_modules(adapter))
      for (const auto& [name, dst] : {std::make_pair(a_name(m), m.a), std::make_pair(b_name(m), m.b)}) {
        expected.insert(name);
        if (!file->contains(name))
          throw Error(SourceLocation{path.string(), 0, 0}, "adapter lacks '" + name + "', expected shaped " + c10::str(dst.sizes()));
        const auto src = file->tensor(name);
        if (src.sizes() != dst.sizes())
          throw Error(SourceLocation{path.string(), 0, 0}, "adapter tensor '" + name + "' has shape " + c10::str(src.sizes()) +
                                                               ", this model's is " + c10::str(dst.sizes()));
        torch::NoGradGuard no_grad;
        auto target = dst;
        target.copy_(src);
      }
  for (const auto& entry : file->entries())
    if (!expected.count(entry.name))
      throw Error(SourceLocation{path.string(), 0, 0}, "adapter tensor '" + entry.name + "' has no matching layer in this model");
}

void load_adapter(CausalLM& model, const fs::path& dir) {
  attach_lora(model, read_adapter_config(dir).settings);
  load_adapter_weights(model, dir);
}

}  // namespace grpo::model
