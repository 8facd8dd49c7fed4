// config.json <-> ModelConfig; see config.h. Defaults follow transformers' configuration_*.py
// for each model_type (checked at the source for deepseek_v2/v3, qwen2 and llama).
#include "model/arch/config.h"

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <iterator>

#include "core/error.h"
#include "core/text/json_parse.h"

namespace grpo::model {
namespace {

using json = nlohmann::json;

struct Reader {
  const json& j;
  const std::string& source;

  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }
  int64_t integer(const char* key, int64_t fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_number_integer()) throw Error(source + ": field '" + key + "' must be an integer, got " + v.dump());
    return v.get<int64_t>();
  }
  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_number()) throw Error(source + ": field '" + key + "' must be a number, got " + v.dump());
    return v.get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_boolean()) throw Error(source + ": field '" + key + "' must be true or false, got " + v.dump());
    return v.get<bool>();
  }
  std::string string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j.at(key);
    if (!v.is_string()) throw Error(source + ": field '" + key + "' must be a string, got " + v.dump());
    return v.get<std::string>();
  }
  std::optional<double> optional_number(const char* key) const {
    if (!has(key)) return std::nullopt;
    return number(key, 0.0);
  }
};

// transformers' defaults per model_type, for fields a config.json may leave out.
struct Defaults {
  int64_t vocab, hidden, intermediate, layers, heads, max_pos;
  std::optional<int64_t> bos, eos;
};

Defaults defaults_for(Arch arch) {
  switch (arch) {
    case Arch::kLlama: return {32000, 4096, 11008, 32, 32, 2048, 1, 2};
    case Arch::kQwen2: return {151936, 4096, 22016, 32, 32, 32768, std::nullopt, std::nullopt};
    case Arch::kDeepseekV2: return {32000, 4096, 11008, 32, 32, 2048, 1, 2};
    case Arch::kDeepseekV3: return {129280, 7168, 18432, 61, 128, 4096, 0, 1};
  }
  return {};
}

Arch parse_arch(const std::string& model_type, const std::string& source) {
  if (model_type == "llama") return Arch::kLlama;
  if (model_type == "qwen2") return Arch::kQwen2;
  if (model_type == "deepseek_v2") return Arch::kDeepseekV2;
  if (model_type == "deepseek_v3") return Arch::kDeepseekV3;
  throw Error(source + ": model_type '" + model_type +
              "' is not supported (expected one of llama, qwen2, deepseek_v2, deepseek_v3)");
}

RopeConfig parse_rope(const json& j, const std::string& source, int64_t max_pos) {
  RopeConfig rope;
  const Reader top{j, source};
  rope.theta = top.number("rope_theta", 10000.0);
  rope.partial_rotary_factor = top.number("partial_rotary_factor", 1.0);
  const json* params = nullptr;
  if (top.has("rope_parameters")) params = &j.at("rope_parameters");
  else if (top.has("rope_scaling")) params = &j.at("rope_scaling");
  if (!params) return rope;
  const std::string field = top.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  if (!params->is_object()) throw Error(source + ": field '" + field + "' must be an object");
  const std::string ctx = source + " " + field;
  const Reader r{*params, ctx};
  rope.theta = r.number("rope_theta", rope.theta);
  rope.partial_rotary_factor = r.number("partial_rotary_factor", rope.partial_rotary_factor);
  rope.type = r.string("rope_type", r.string("type", "default"));
  if (rope.type != "default" && rope.type != "linear" && rope.type != "llama3" && rope.type != "yarn")
    throw Error(ctx + ": rope type '" + rope.type + "' is not supported (expected default, linear, llama3 or yarn)");
  rope.original_max_position_embeddings = r.integer("original_max_position_embeddings", 0);
  rope.factor = r.number("factor", 1.0);
  if (rope.type == "yarn" && !r.has("factor") && rope.original_max_position_embeddings > 0)
    rope.factor = static_cast<double>(max_pos) / rope.original_max_position_embeddings;
  if ((rope.type == "linear" || rope.type == "llama3") && !r.has("factor"))
    throw Error(ctx + ": rope type '" + rope.type + "' needs 'factor'");
  rope.low_freq_factor = r.number("low_freq_factor", 1.0);
  rope.high_freq_factor = r.number("high_freq_factor", 4.0);
  rope.beta_fast = r.number("beta_fast", 32.0);
  rope.beta_slow = r.number("beta_slow", 1.0);
  rope.mscale = r.optional_number("mscale");
  rope.mscale_all_dim = r.optional_number("mscale_all_dim");
  rope.attention_factor = r.optional_number("attention_factor");
  rope.truncate = r.boolean("truncate", true);
  if (rope.original_max_position_embeddings == 0) rope.original_max_position_embeddings = max_pos;
  return rope;
}

std::vector<int64_t> parse_eos(const json& j, std::optional<int64_t> fallback, const std::string& source) {
  if (!j.contains("eos_token_id")) return fallback ? std::vector<int64_t>{*fallback} : std::vector<int64_t>{};
  const auto& v = j.at("eos_token_id");
  if (v.is_null()) return {};
  if (v.is_number_integer()) return {v.get<int64_t>()};
  if (v.is_array()) {
    std::vector<int64_t> out;
    for (const auto& e : v) {
      if (!e.is_number_integer()) throw Error(source + ": eos_token_id entries must be integers");
      out.push_back(e.get<int64_t>());
    }
    return out;
  }
  throw Error(source + ": eos_token_id must be an integer or a list of integers");
}

void parse_mla_and_moe(const Reader& r, ModelConfig& c) {
  const bool v3 = c.arch == Arch::kDeepseekV3;
  c.q_lora_rank = r.integer("q_lora_rank", r.j.contains("q_lora_rank") ? 0 : 1536);
  c.kv_lora_rank = r.integer("kv_lora_rank", 512);
  c.qk_nope_head_dim = r.integer("qk_nope_head_dim", 128);
  c.qk_rope_head_dim = r.integer("qk_rope_head_dim", 64);
  c.v_head_dim = r.integer("v_head_dim", 128);
  c.head_dim = c.qk_rope_head_dim;  // transformers sets head_dim = qk_rope_head_dim for RoPE
  // V2 checkpoints are interleaved too; transformers' V2 code rotates complex pairs.
  c.rope_interleave = v3 ? r.boolean("rope_interleave", true) : true;
  c.mla_a_bias = r.boolean("attention_bias", false);
  c.o_bias = c.mla_a_bias;
  c.n_routed_experts = r.integer("n_routed_experts", v3 ? 256 : 64);
  c.n_shared_experts = r.integer("n_shared_experts", v3 ? 1 : 2);
  c.num_experts_per_tok = r.integer("num_experts_per_tok", v3 ? 8 : 0);
  c.moe_intermediate_size = r.integer("moe_intermediate_size", v3 ? 2048 : 1407);
  c.first_k_dense_replace = r.integer("first_k_dense_replace", v3 ? 3 : 0);
  c.moe_layer_freq = r.integer("moe_layer_freq", 1);
  c.n_group = r.integer("n_group", v3 ? 8 : 1);
  c.topk_group = r.integer("topk_group", v3 ? 4 : 1);
  c.routed_scaling_factor = r.number("routed_scaling_factor", v3 ? 2.5 : 1.0);
  c.norm_topk_prob = r.boolean("norm_topk_prob", v3);
  // transformers hard-wires V3 to sigmoid + noaux_tc and V2 to softmax.
  c.scoring_func = v3 ? "sigmoid" : "softmax";
  c.topk_method = v3 ? "noaux_tc" : r.string("topk_method", "greedy");
  if (!v3 && c.topk_method != "greedy" && c.topk_method != "group_limited_greedy")
    throw Error(r.source + ": topk_method '" + c.topk_method + "' (expected greedy or group_limited_greedy)");
  c.num_nextn_predict_layers = r.integer("num_nextn_predict_layers", 0);
  if (c.n_routed_experts > 0) {
    if (c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.n_routed_experts)
      throw Error(r.source + ": num_experts_per_tok must be in [1, n_routed_experts]");
    if (c.n_group <= 0 || c.n_routed_experts % c.n_group != 0 || c.topk_group > c.n_group)
      throw Error(r.source + ": n_group must divide n_routed_experts and topk_group <= n_group");
    if (c.moe_layer_freq <= 0) throw Error(r.source + ": moe_layer_freq must be positive");
  }
}

// A named size for the checks below; `value` is what the config holds after defaults.
struct Size {
  const char* key;
  int64_t value;
};

void check_positive(const Reader& r, std::initializer_list<Size> sizes) {
  for (const auto& s : sizes)
    if (s.value <= 0) throw Error(r.source + ": field '" + s.key + "' must be positive, got " + std::to_string(s.value));
}

void check_at_most(const std::string& source, std::initializer_list<Size> sizes) {
  for (const auto& s : sizes)
    if (s.value > kMaxModelConfigSize)
      throw Error(source + ": field '" + s.key + "' is " + std::to_string(s.value) + ", beyond the limit of " +
                  std::to_string(kMaxModelConfigSize) + " for any size in config.json");
}

void check_finite_positive(const std::string& source, const char* key, double value) {
  if (!std::isfinite(value) || value <= 0) throw Error(source + ": field '" + key + "' must be a positive number");
}

// The invariants parse_model_config promises (config.h), checked once every default is in.
void check_sizes(const ModelConfig& c, const std::string& source) {
  const Reader r{c.raw, source};
  check_positive(r, {{"intermediate_size", c.intermediate_size}, {"num_key_value_heads", c.num_key_value_heads},
                     {"head_dim", c.head_dim}, {"max_position_embeddings", c.max_position_embeddings}});
  if (c.rope.original_max_position_embeddings < 0)  // 0: not given
    throw Error(source + ": field 'original_max_position_embeddings' must not be negative");
  check_at_most(source, {{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                         {"intermediate_size", c.intermediate_size}, {"num_hidden_layers", c.num_hidden_layers},
                         {"num_attention_heads", c.num_attention_heads}, {"num_key_value_heads", c.num_key_value_heads},
                         {"head_dim", c.head_dim}, {"max_position_embeddings", c.max_position_embeddings},
                         {"q_lora_rank", c.q_lora_rank}, {"kv_lora_rank", c.kv_lora_rank},
                         {"qk_nope_head_dim", c.qk_nope_head_dim}, {"qk_rope_head_dim", c.qk_rope_head_dim},
                         {"v_head_dim", c.v_head_dim}, {"n_routed_experts", c.n_routed_experts},
                         {"n_shared_experts", c.n_shared_experts}, {"moe_intermediate_size", c.moe_intermediate_size},
                         {"first_k_dense_replace", c.first_k_dense_replace},
                         {"num_nextn_predict_layers", c.num_nextn_predict_layers},
                         {"rope original_max_position_embeddings", c.rope.original_max_position_embeddings}});
  check_finite_positive(source, "rms_norm_eps", c.rms_norm_eps);
  check_finite_positive(source, "rope_theta", c.rope.theta);
  check_finite_positive(source, "rope factor", c.rope.factor);
  if (!(c.rope.partial_rotary_factor > 0 && c.rope.partial_rotary_factor <= 1))
    throw Error(source + ": field 'partial_rotary_factor' must be in (0, 1]");
  if (c.rope.type == "llama3" && !(c.rope.low_freq_factor > 0 && c.rope.high_freq_factor > c.rope.low_freq_factor))
    throw Error(source + ": rope type 'llama3' needs 0 < low_freq_factor < high_freq_factor");
  if (c.is_mla()) {
    check_positive(r, {{"kv_lora_rank", c.kv_lora_rank}, {"qk_rope_head_dim", c.qk_rope_head_dim},
                       {"v_head_dim", c.v_head_dim}});
    for (const Size s : {Size{"q_lora_rank", c.q_lora_rank}, Size{"qk_nope_head_dim", c.qk_nope_head_dim},
                         Size{"n_shared_experts", c.n_shared_experts}, Size{"n_routed_experts", c.n_routed_experts},
                         Size{"first_k_dense_replace", c.first_k_dense_replace},
                         Size{"num_nextn_predict_layers", c.num_nextn_predict_layers}})
      if (s.value < 0) throw Error(source + ": field '" + s.key + "' must not be negative");
    if (c.n_routed_experts > 0) check_positive(r, {{"moe_intermediate_size", c.moe_intermediate_size}});
  } else if (c.num_attention_heads % c.num_key_value_heads != 0) {
    throw Error(source + ": num_attention_heads must be a multiple of num_key_value_heads");
  }
  if (c.rope_dim() % 2 != 0 || c.rope_dim() <= 0) throw Error(source + ": the rotary width must be even and positive");
}

}  // namespace

int64_t ModelConfig::rope_dim() const {
  if (is_mla()) return qk_rope_head_dim;
  return static_cast<int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
}

double ModelConfig::attention_scale() const {
  if (!is_mla()) return 1.0 / std::sqrt(static_cast<double>(head_dim));
  double scale = 1.0 / std::sqrt(static_cast<double>(qk_head_dim()));
  if (rope.type != "default" && rope.mscale_all_dim.value_or(0.0) != 0.0 && rope.factor > 1.0) {
    const double m = 0.1 * *rope.mscale_all_dim * std::log(rope.factor) + 1.0;
    scale *= m * m;
  }
  return scale;
}

ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  const Reader r{j, source};
  if (!r.has("model_type")) throw Error(source + ": missing field 'model_type'");
  ModelConfig c;
  c.model_type = r.string("model_type", "");
  c.arch = parse_arch(c.model_type, source);
  c.raw = j;
  const auto d = defaults_for(c.arch);
  c.vocab_size = r.integer("vocab_size", d.vocab);
  c.hidden_size = r.integer("hidden_size", d.hidden);
  c.intermediate_size = r.integer("intermediate_size", d.intermediate);
  c.num_hidden_layers = r.integer("num_hidden_layers", d.layers);
  c.num_attention_heads = r.integer("num_attention_heads", d.heads);
  c.num_key_value_heads = r.integer("num_key_value_heads", c.num_attention_heads);
  c.max_position_embeddings = r.integer("max_position_embeddings", d.max_pos);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  // Only Llama's MLPs read mlp_bias; Qwen2's and DeepSeek's (experts included) never have biases.
  c.mlp_bias = c.arch == Arch::kLlama && r.boolean("mlp_bias", false);
  const auto act = r.string("hidden_act", "silu");
  if (act != "silu") throw Error(source + ": hidden_act '" + act + "' is not supported (expected silu)");
  check_positive(r, {{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                     {"num_attention_heads", c.num_attention_heads}, {"num_hidden_layers", c.num_hidden_layers}});
  c.head_dim = r.integer("head_dim", c.hidden_size / c.num_attention_heads);
  c.rope = parse_rope(j, source, c.max_position_embeddings);
  c.bos_token_id = r.has("bos_token_id") ? std::optional<int64_t>(r.integer("bos_token_id", 0))
                                         : (j.contains("bos_token_id") ? std::nullopt : d.bos);
  c.eos_token_ids = parse_eos(j, d.eos, source);
  if (c.arch == Arch::kQwen2) {
    c.qkv_bias = true;
    if (r.boolean("use_sliding_window", false))
      throw Error(source + ": use_sliding_window=true is not supported (sliding-window attention)");
  } else if (c.arch == Arch::kLlama) {
    c.qkv_bias = c.o_bias = r.boolean("attention_bias", false);
  } else {
    parse_mla_and_moe(r, c);
  }
  check_sizes(c, source);
  return c;
}

ModelConfig load_model_config(const std::filesystem::path& dir) {
  const auto path = dir / "config.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_model_config(parse_untrusted_json(text, path.string()), path.string());
}

nlohmann::json model_config_to_json(const ModelConfig& c) {
  json j = c.raw.is_object() ? c.raw : json::object();
  static const char* kArchitectures[] = {"LlamaForCausalLM", "Qwen2ForCausalLM", "DeepseekV2ForCausalLM",
                                         "DeepseekV3ForCausalLM"};
  j["model_type"] = c.model_type;
  j["architectures"] = {kArchitectures[static_cast<int>(c.arch)]};
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["hidden_act"] = "silu";
  if (c.arch == Arch::kLlama) {
    j["attention_bias"] = c.qkv_bias;
    j["mlp_bias"] = c.mlp_bias;
  }
  json rope = {{"rope_type", c.rope.type}, {"rope_theta", c.rope.theta}};
  if (c.rope.type != "default") rope["factor"] = c.rope.factor;
  if (c.rope.type == "llama3" || c.rope.type == "yarn")
    rope["original_max_position_embeddings"] = c.rope.original_max_position_embeddings;
  if (c.rope.type == "llama3") {
    rope["low_freq_factor"] = c.rope.low_freq_factor;
    rope["high_freq_factor"] = c.rope.high_freq_factor;
  }
  if (c.rope.type == "yarn") {
    rope["beta_fast"] = c.rope.beta_fast;
    rope["beta_slow"] = c.rope.beta_slow;
    if (c.rope.mscale) rope["mscale"] = *c.rope.mscale;
    if (c.rope.mscale_all_dim) rope["mscale_all_dim"] = *c.rope.mscale_all_dim;
    if (c.rope.attention_factor) rope["attention_factor"] = *c.rope.attention_factor;
  }
  // Keep the source's spelling: legacy readers (transformers 4, vLLM) know only rope_theta + rope_scaling.
  const bool legacy = j.contains("rope_theta") || j.contains("rope_scaling");
  if (legacy) {
    j["rope_theta"] = c.rope.theta;
    rope.erase("rope_theta");
    if (c.rope.type != "default") rope["type"] = c.rope.type;
    j["rope_scaling"] = c.rope.type == "default" ? json(nullptr) : rope;
    j.erase("rope_parameters");
  } else {
    j["rope_parameters"] = rope;
  }
  if (c.is_mla()) {
    j["q_lora_rank"] = c.q_lora_rank > 0 ? json(c.q_lora_rank) : json(nullptr);
    j["kv_lora_rank"] = c.kv_lora_rank;
    j["qk_nope_head_dim"] = c.qk_nope_head_dim;
    j["qk_rope_head_dim"] = c.qk_rope_head_dim;
    j["v_head_dim"] = c.v_head_dim;
    j["attention_bias"] = c.mla_a_bias;
    j["n_routed_experts"] = c.n_routed_experts;
    j["n_shared_experts"] = c.n_shared_experts;
    j["num_experts_per_tok"] = c.num_experts_per_tok;
    j["moe_intermediate_size"] = c.moe_intermediate_size;
    j["first_k_dense_replace"] = c.first_k_dense_replace;
    j["n_group"] = c.n_group;
    j["topk_group"] = c.topk_group;
    j["norm_topk_prob"] = c.norm_topk_prob;
    j["routed_scaling_factor"] = c.routed_scaling_factor;
    j["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
    if (c.arch == Arch::kDeepseekV3) j["rope_interleave"] = c.rope_interleave;
    else j["topk_method"] = c.topk_method;
  }
  j["bos_token_id"] = c.bos_token_id ? json(*c.bos_token_id) : json(nullptr);
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  else if (c.eos_token_ids.empty()) j["eos_token_id"] = nullptr;
  else j["eos_token_id"] = c.eos_token_ids;
  return j;
}

}  // namespace grpo::model
