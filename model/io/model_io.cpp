// Loading and saving Hugging Face directories; see model_io.h.
#include "model/io/model_io.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/strings.h"
#include "core/logging.h"
#include "model/arch/architecture.h"
#include "model/arch/tensor_names.h"

namespace grpo::model {
namespace fs = std::filesystem;

namespace {

std::string shape_str(c10::IntArrayRef shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

// Older transformers saved RoPE's inverse-frequency buffer; it is recomputed, never loaded.
bool ignorable(const std::string& name) {
  const std::string suffix = "rotary_emb.inv_freq";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const char* kTokenizerFiles[] = {"tokenizer.json",   "tokenizer_config.json", "special_tokens_map.json",
                                 "vocab.json",       "merges.txt",            "added_tokens.json",
                                 "chat_template.jinja", "tokenizer.model"};

void write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) throw Error(path.string() + ": write failed");
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> model_tensors(CausalLM& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model->named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : model->named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> checkpoint_tensors(CausalLM& model) {
  std::map<std::string, torch::Tensor> module;
  for (auto& [name, t] : model_tensors(model)) module[name] = t;
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& spec : tensor_table(model->config())) {
    const auto it = module.find(spec.module_tensor());
    if (it == module.end())
      throw Error("internal: tensor table maps '" + spec.name + "' to '" + spec.module_tensor() + "', which the model lacks");
    auto view = it->second;
    if (spec.expert >= 0) view = view.select(0, spec.expert);
    if (spec.module_tensor() != spec.name) view = view.narrow(0, spec.row_offset, spec.shape.front());
    if (view.sizes().vec() != spec.shape)
      throw Error("internal: '" + spec.name + "' maps to a part of '" + spec.module_tensor() + "' shaped " +
                  shape_str(view.sizes()) + ", expected " + shape_str(spec.shape));
    out.emplace_back(spec.name, view);
  }
  return out;
}

void load_weights(CausalLM& model, const CheckpointReader& reader) {
  const auto& config = model->config();
  const auto where = reader.dir().string() + ": ";
  std::set<std::string> known;
  for (const auto& spec : tensor_table(config)) {
    known.insert(spec.name);
    if (!reader.contains(spec.name))
      throw Error(where + "missing tensor '" + spec.name + "' (expected shape " + shape_str(spec.shape) + ")");
    const auto& stored = reader.entry(spec.name).shape;
    if (stored != spec.shape)
      throw Error(where + "tensor '" + spec.name + "' has shape " + shape_str(stored) + ", expected " +
                  shape_str(spec.shape));
  }
  for (const auto& alias : tensor_aliases(config)) known.insert(alias.name);
  for (const auto& name : reader.names())
    if (!known.count(name) && !ignorable(name))
      throw Error(where + "unexpected tensor '" + name + "' (not part of a " + config.model_type + " model with this config)");
  torch::NoGradGuard no_grad;
  for (auto& [name, view] : checkpoint_tensors(model)) view.copy_(reader.tensor(name));
}

CausalLM load_model(const fs::path& dir, const LoadOptions& options) {
  auto config = load_model_config(dir);
  CheckpointReader reader(dir);
  if (config.num_nextn_predict_layers > 0) {
    bool any = false;
    for (const auto& name : reader.names()) any = any || is_mtp_tensor(config, name);
    if (!any) {
      logging::info(strformat("%s: config announces %lld MTP module(s) but the checkpoint has none; loading without them",
                              dir.string().c_str(), static_cast<long long>(config.num_nextn_predict_layers)));
      config.num_nextn_predict_layers = 0;
    }
  }
  CausalLM model(config);
  cast_model(model, options.dtype);
  load_weights(model, reader);
  model->to(options.device);
  model->eval();
  return model;
}

void cast_model(CausalLM& model, torch::Dtype dtype) {
  model->to(dtype);
  torch::NoGradGuard no_grad;
  for (auto* moe : model->moe_layers())
    if (moe->gate->e_score_correction_bias.defined())
      moe->gate->e_score_correction_bias.set_data(moe->gate->e_score_correction_bias.to(torch::kFloat32));
}

void save_model(CausalLM& model, const fs::path& dir, const SaveOptions& options) {
  const auto& config = model->config();
  fs::create_directories(dir);
  std::map<std::string, torch::Tensor> by_name;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (auto& [name, view] : checkpoint_tensors(model)) {
    auto t = view.detach();
    const bool keep_fp32 = name.find(names::kScoreCorrectionBias) != std::string::npos;
    if (options.dtype && !keep_fp32) t = t.to(*options.dtype);
    t = t.to(torch::kCPU).contiguous();  // parts of fused tensors are strided views
    by_name[name] = t;
    tensors.emplace_back(name, t);
  }
  for (const auto& alias : tensor_aliases(config))  // MTP's shared embedding/head; a tied lm_head is omitted
    if (is_mtp_tensor(config, alias.name)) tensors.emplace_back(alias.name, by_name.at(alias.source));
  save_checkpoint(dir, tensors, options.max_shard_bytes);

  auto json = model_config_to_json(config);
  const auto dtype = options.dtype.value_or(model->output_weight().scalar_type());
  json["dtype"] = dtype == torch::kBFloat16 ? "bfloat16" : dtype == torch::kFloat16 ? "float16" : "float32";
  json.erase("torch_dtype");
  write_json(dir / "config.json", json);

  const auto source_gen = options.source_dir / "generation_config.json";
  if (!options.source_dir.empty() && fs::exists(source_gen)) {
    fs::copy_file(source_gen, dir / "generation_config.json", fs::copy_options::overwrite_existing);
  } else {
    nlohmann::json gen = {{"_from_model_config", true}};
    gen["bos_token_id"] = config.bos_token_id ? nlohmann::json(*config.bos_token_id) : nlohmann::json(nullptr);
    gen["eos_token_id"] = config.eos_token_ids.empty()       ? nlohmann::json(nullptr)
                          : config.eos_token_ids.size() == 1 ? nlohmann::json(config.eos_token_ids[0])
                                                             : nlohmann::json(config.eos_token_ids);
    write_json(dir / "generation_config.json", gen);
  }
  if (options.source_dir.empty()) return;
  for (const char* name : kTokenizerFiles)
    if (fs::exists(options.source_dir / name) && fs::canonical(options.source_dir) != fs::canonical(dir))
      fs::copy_file(options.source_dir / name, dir / name, fs::copy_options::overwrite_existing);
}

void init_weights(CausalLM& model, uint64_t seed, double std) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  auto normal = [&](torch::Tensor& t) {
    auto values = at::normal(0.0, std, t.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32));
    t.copy_(values);
  };
  // Checkpoint tensors in table order: fusing modules does not change a seed's weights.
  for (auto& [name, t] : checkpoint_tensors(model)) {
    const bool is_norm = name.find("norm.weight") != std::string::npos;
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, names::kBias) == 0;
    if (name.find(names::kScoreCorrectionBias) != std::string::npos || is_bias) t.zero_();
    else if (is_norm) t.fill_(1.0);
    else normal(t);
  }
}

}  // namespace grpo::model
