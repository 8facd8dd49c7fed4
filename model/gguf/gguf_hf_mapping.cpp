// GGUF metadata and tensor names -> Hugging Face; see gguf_hf_mapping.h. The GGUF names are
// llama.cpp's (gguf-py's tensor_mapping.py); the Hugging Face ones come from tensor_names.h.
#include "model/gguf/gguf_hf_mapping.h"

#include <map>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "model/arch/architecture.h"
#include "model/arch/tensor_names.h"

namespace grpo::model::gguf {
namespace {

using json = nlohmann::json;

struct ArchSpec {
  const char* gguf_name;   // general.architecture
  const char* model_type;  // config.json model_type
  bool rope_permuted;      // llama.cpp permuted Q/K rows when converting
};

constexpr ArchSpec kArchs[] = {{"llama", "llama", true}, {"qwen2", "qwen2", false}};

const ArchSpec& arch_spec(const GgufFile& file) {
  const std::string arch = file.required_string("general.architecture");
  for (const auto& a : kArchs)
    if (arch == a.gguf_name) return a;
  std::string supported;
  for (const auto& a : kArchs) supported += std::string(supported.empty() ? "" : ", ") + a.gguf_name;
  throw Error(file.path().string() + ": unsupported architecture '" + arch + "' (supported: " + supported + ")");
}

// GGUF layer tensor part -> Hugging Face module path inside model.layers.N.
std::vector<std::pair<std::string, std::string>> layer_parts() {
  using names::join;
  return {
      {"attn_norm", names::kInputLayernorm},
      {"ffn_norm", names::kPostAttentionLayernorm},
      {"attn_q", join(names::kSelfAttn, names::kQProj)},
      {"attn_k", join(names::kSelfAttn, names::kKProj)},
      {"attn_v", join(names::kSelfAttn, names::kVProj)},
      {"attn_output", join(names::kSelfAttn, names::kOProj)},
      {"ffn_gate", join(names::kMlp, names::kGateProj)},
      {"ffn_up", join(names::kMlp, names::kUpProj)},
      {"ffn_down", join(names::kMlp, names::kDownProj)},
  };
}

// GGUF top-level tensor -> Hugging Face module path.
std::vector<std::pair<std::string, std::string>> top_parts() {
  using names::join;
  return {
      {"token_embd", join(names::kModel, names::kEmbedTokens)},
      {"output_norm", join(names::kModel, names::kNorm)},
      {"output", names::kLmHead},
  };
}

// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight"; nullopt when unknown.
std::optional<std::string> hf_name_of(const std::string& gguf_name) {
  const auto dot = gguf_name.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  const std::string stem = gguf_name.substr(0, dot), kind = gguf_name.substr(dot + 1);
  if (kind != names::kWeight && kind != names::kBias) return std::nullopt;
  const std::string layer_prefix = "blk.";
  if (stem.rfind(layer_prefix, 0) != 0) {
    for (const auto& [gguf, hf] : top_parts())
      if (stem == gguf) return names::join(hf, kind);
    return std::nullopt;
  }
  const auto part_dot = stem.find('.', layer_prefix.size());
  if (part_dot == std::string::npos) return std::nullopt;
  const std::string digits = stem.substr(layer_prefix.size(), part_dot - layer_prefix.size());
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::string part = stem.substr(part_dot + 1);
  for (const auto& [gguf, hf] : layer_parts())
    if (part == gguf) return names::join(names::join(names::layer_prefix(std::stoll(digits)), hf), kind);
  return std::nullopt;
}

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight", for messages about a
// tensor the file lacks.
std::string gguf_name_of(const std::string& hf_name) {
  for (const auto& [gguf, hf] : top_parts())
    for (const char* kind : {names::kWeight, names::kBias})
      if (hf_name == names::join(hf, kind)) return gguf + "." + kind;
  const std::string prefix = std::string(names::kModel) + "." + names::kLayers + ".";
  if (hf_name.rfind(prefix, 0) == 0) {
    const auto dot = hf_name.find('.', prefix.size());
    const std::string layer = hf_name.substr(prefix.size(), dot - prefix.size());
    const std::string rest = dot == std::string::npos ? "" : hf_name.substr(dot + 1);
    for (const auto& [gguf, hf] : layer_parts())
      for (const char* kind : {names::kWeight, names::kBias})
        if (rest == names::join(hf, kind)) return "blk." + layer + "." + gguf + "." + kind;
  }
  return hf_name;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

// The RoPE scaling of the file as config.json's rope_scaling, or null.
json rope_scaling(const GgufFile& file, const std::string& prefix) {
  const std::string type = file.string(prefix + "rope.scaling.type").value_or("none");
  if (type == "none") return nullptr;
  const auto factor = file.number(prefix + "rope.scaling.factor");
  if (!factor) throw Error(file.path().string() + ": rope scaling '" + type + "' needs metadata '" + prefix + "rope.scaling.factor'");
  if (type == "linear") return {{"type", "linear"}, {"factor", *factor}};
  if (type == "yarn") {
    json yarn = {{"type", "yarn"}, {"factor", *factor}};
    if (const auto original = file.integer(prefix + "rope.scaling.original_context_length"))
      yarn["original_max_position_embeddings"] = *original;
    return yarn;
  }
  throw Error(file.path().string() + ": rope scaling type '" + type + "' is not supported (expected none, linear or yarn)");
}

json optional_id(const GgufFile& file, const std::string& key) {
  const auto id = file.integer(key);
  return id ? json(*id) : json(nullptr);
}

}  // namespace

json hf_config_json(const GgufFile& file, const std::string& dtype_name) {
  const ArchSpec& arch = arch_spec(file);
  const std::string source = file.path().string();
  const std::string p = std::string(arch.gguf_name) + ".";
  if (file.find_tensor("rope_freqs.weight"))
    throw Error(source + ": tensor 'rope_freqs.weight' (per-frequency RoPE factors, llama 3.1 style) is not supported");
  json j;
  j["model_type"] = arch.model_type;
  j["hidden_act"] = "silu";
  j["torch_dtype"] = dtype_name;
  j["hidden_size"] = file.required_integer(p + "embedding_length");
  j["num_hidden_layers"] = file.required_integer(p + "block_count");
  j["intermediate_size"] = file.required_integer(p + "feed_forward_length");
  const int64_t heads = file.required_integer(p + "attention.head_count");
  j["num_attention_heads"] = heads;
  j["num_key_value_heads"] = file.integer(p + "attention.head_count_kv").value_or(heads);
  if (const auto ctx = file.integer(p + "context_length")) j["max_position_embeddings"] = *ctx;
  j["rope_theta"] = file.number(p + "rope.freq_base").value_or(10000.0);  // llama.cpp's default
  if (const auto eps = file.number(p + "attention.layer_norm_rms_epsilon")) j["rms_norm_eps"] = *eps;
  const int64_t hidden = j["hidden_size"].get<int64_t>();
  int64_t head_dim = heads > 0 ? hidden / heads : 0;
  if (const auto key_length = file.integer(p + "attention.key_length")) head_dim = *key_length;
  if (const auto value_length = file.integer(p + "attention.value_length"); value_length && *value_length != head_dim)
    throw Error(source + ": attention.value_length " + std::to_string(*value_length) + " differs from the key length " +
                std::to_string(head_dim) + " (grpo.cpp needs equal K and V head sizes)");
  j["head_dim"] = head_dim;
  if (const auto rot = file.integer(p + "rope.dimension_count"); rot && *rot != head_dim)
    throw Error(source + ": rope.dimension_count " + std::to_string(*rot) + " differs from the head size " +
                std::to_string(head_dim) + " (partial rotary embeddings are not supported for " + arch.gguf_name + ")");
  j["rope_scaling"] = rope_scaling(file, p);
  int64_t vocab = static_cast<int64_t>(file.string_array("tokenizer.ggml.tokens").size());
  if (const auto declared = file.integer(p + "vocab_size")) vocab = *declared;
  else if (const GgufTensor* embed = file.find_tensor("token_embd.weight"); embed && vocab == 0 && embed->dims.size() == 2)
    vocab = embed->dims[1];
  j["vocab_size"] = vocab;
  j["tie_word_embeddings"] = file.find_tensor("output.weight") == nullptr;
  if (std::string(arch.model_type) == "llama") {
    j["attention_bias"] = file.find_tensor("blk.0.attn_q.bias") != nullptr;
    j["mlp_bias"] = false;
  }
  j["bos_token_id"] = optional_id(file, "tokenizer.ggml.bos_token_id");
  j["eos_token_id"] = optional_id(file, "tokenizer.ggml.eos_token_id");
  if (file.integer("tokenizer.ggml.padding_token_id")) j["pad_token_id"] = optional_id(file, "tokenizer.ggml.padding_token_id");
  return j;
}

ModelConfig model_config_from_gguf(const GgufFile& file) {
  return parse_model_config(hf_config_json(file), file.path().string());
}

std::vector<HfTensorSource> hf_tensor_sources(const GgufFile& file, const ModelConfig& config) {
  const std::string source = file.path().string();
  const bool permuted = arch_spec(file).rope_permuted;
  std::map<std::string, const GgufTensor*> by_hf_name;
  for (const auto& t : file.tensors()) {
    const auto hf = hf_name_of(t.name);
    if (!hf)
      throw Error(source + ": tensor '" + t.name + "' has no Hugging Face counterpart in a " + config.model_type +
                  " model (expected token_embd, output_norm, output and blk.N.{attn_norm, attn_q, attn_k, attn_v, "
                  "attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down} weights and biases)");
    by_hf_name[*hf] = &t;
  }
  const std::string q_suffix = names::join(names::kSelfAttn, names::kQProj) + ".";
  const std::string k_suffix = names::join(names::kSelfAttn, names::kKProj) + ".";
  std::vector<HfTensorSource> out;
  for (const auto& spec : tensor_table(config)) {
    auto it = by_hf_name.find(spec.name);
    if (it == by_hf_name.end())
      throw Error(source + ": missing tensor '" + gguf_name_of(spec.name) + "' (" + spec.name + ", shape " +
                  shape_str(spec.shape) + ")");
    const GgufTensor* t = it->second;
    if (t->shape() != spec.shape)
      throw Error(source + ": tensor '" + t->name + "' has shape " + shape_str(t->shape()) + " (GGUF dims " +
                  shape_str(t->dims) + "), expected " + shape_str(spec.shape) + " for " + spec.name);
    HfTensorSource s{spec.name, t, 0};
    if (permuted && spec.name.find(q_suffix) != std::string::npos) s.rope_heads = config.num_attention_heads;
    if (permuted && spec.name.find(k_suffix) != std::string::npos) s.rope_heads = config.num_key_value_heads;
    out.push_back(s);
    by_hf_name.erase(it);
  }
  if (!by_hf_name.empty()) {
    const auto& [hf, t] = *by_hf_name.begin();
    throw Error(source + ": tensor '" + t->name + "' (" + hf + ") is not part of this " + config.model_type +
                " model (tie_word_embeddings " + (config.tie_word_embeddings ? "true" : "false") + ", " +
                std::to_string(config.num_hidden_layers) + " layers)");
  }
  return out;
}

torch::Tensor undo_rope_permutation(const torch::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0);
  if (heads <= 0 || rows % (2 * heads) != 0)
    throw Error("undo_rope_permutation: " + std::to_string(rows) + " rows do not split into " + std::to_string(heads) +
                " heads of an even size");
  std::vector<int64_t> split{heads, rows / heads / 2, 2};
  for (int64_t d = 1; d < w.dim(); ++d) split.push_back(w.size(d));
  return w.reshape(split).transpose(1, 2).reshape(w.sizes()).contiguous();
}

GgufVocab vocab_from_gguf(const GgufFile& file) {
  GgufVocab v;
  v.tokens = file.string_array("tokenizer.ggml.tokens");
  if (v.tokens.empty())
    throw Error(file.path().string() + ": no tokenizer vocabulary (metadata 'tokenizer.ggml.tokens' is missing or empty)");
  v.model = file.required_string("tokenizer.ggml.model");
  v.pre = file.string("tokenizer.ggml.pre").value_or("");
  v.scores = file.float_array("tokenizer.ggml.scores");
  v.token_types = file.int32_array("tokenizer.ggml.token_type");
  v.merges = file.string_array("tokenizer.ggml.merges");
  v.bos_id = file.integer("tokenizer.ggml.bos_token_id");
  v.eos_id = file.integer("tokenizer.ggml.eos_token_id");
  v.unk_id = file.integer("tokenizer.ggml.unknown_token_id");
  v.pad_id = file.integer("tokenizer.ggml.padding_token_id");
  v.eot_id = file.integer("tokenizer.ggml.eot_token_id");
  v.eom_id = file.integer("tokenizer.ggml.eom_token_id");
  v.add_bos = file.boolean("tokenizer.ggml.add_bos_token");
  v.add_eos = file.boolean("tokenizer.ggml.add_eos_token");
  v.chat_template = file.string("tokenizer.chat_template").value_or("");
  return v;
}

}  // namespace grpo::model::gguf
