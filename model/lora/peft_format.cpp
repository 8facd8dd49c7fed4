// PEFT's adapter directory; see peft_format.h.
#include "model/lora/peft_format.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/run_directory.h"
#include "model/io/safetensors.h"
#include "model/lora/lora_adapters.h"

namespace fs = std::filesystem;

namespace grpo::model {
namespace {

constexpr const char* kPeftPrefix = "base_model.model.";
constexpr const char* kVersionKey = "grpo_adapter_version";
constexpr const char* kVersion = "1";

std::string a_name(const LoraSlice& s) { return kPeftPrefix + s.name + ".lora_A.weight"; }
std::string b_name(const LoraSlice& s) { return kPeftPrefix + s.name + ".lora_B.weight"; }

}  // namespace

bool is_adapter_dir(const fs::path& dir) { return fs::exists(dir / kAdapterConfigFile); }

void save_adapter(CausalLM& model, const fs::path& base_model, const fs::path& dir) {
  const auto adapters = lora_adapters(model);
  require(!adapters.empty(), "save_adapter: the model has no LoRA adapters");
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::set<std::string> targets;
  for (const auto& [linear, slice] : adapters) {
    tensors.emplace_back(a_name(*slice), slice->a.detach().to(torch::kCPU).contiguous());
    tensors.emplace_back(b_name(*slice), slice->b.detach().to(torch::kCPU).contiguous());
    targets.insert(slice->name.substr(slice->name.rfind('.') + 1));
  }
  const auto& first = *adapters.front().slice;
  const int64_t rank = first.a.size(0);
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
  for (const auto& t : targets) {
    if (!t.is_string()) throw Error(where, "adapter config: target_modules must list module names");
    out.settings.targets.push_back(t.get<std::string>());
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
  for (const auto& [linear, slice] : lora_adapters(model)) {
    for (const auto& [name, dst] : {std::make_pair(a_name(*slice), slice->a), std::make_pair(b_name(*slice), slice->b)}) {
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
