// The shared benchmark shapes and their random models; see model_shapes.h.
#include "bench/common/model_shapes.h"

#include <c10/core/DefaultDtype.h>

#include <optional>

#include "core/error.h"
#include "model/io/model_io.h"

namespace grpo::bench {

nlohmann::json shape_config(const std::string& shape) {
  if (shape == "qwen05")
    return {{"model_type", "qwen2"}, {"vocab_size", 151936}, {"hidden_size", 896}, {"intermediate_size", 4864},
            {"num_hidden_layers", 24}, {"num_attention_heads", 14}, {"num_key_value_heads", 2},
            {"max_position_embeddings", 32768}, {"rope_theta", 1e6}, {"rms_norm_eps", 1e-6}, {"tie_word_embeddings", true}};
  // Qwen2.5-7B(-Instruct)'s config.json, huggingface.co/Qwen/Qwen2.5-7B-Instruct (copied at
  // huggingface.co/osllmai-community/Qwen2.5-7B-Instruct/blob/main/config.json): the base model's
  // differs only in max_position_embeddings (131072), which the benchmarks' lengths never reach.
  if (shape == "qwen7b")
    return {{"model_type", "qwen2"}, {"vocab_size", 152064}, {"hidden_size", 3584}, {"intermediate_size", 18944},
            {"num_hidden_layers", 28}, {"num_attention_heads", 28}, {"num_key_value_heads", 4},
            {"max_position_embeddings", 32768}, {"rope_theta", 1e6}, {"rms_norm_eps", 1e-6}, {"tie_word_embeddings", false}};
  if (shape == "moe-mla")
    return {{"model_type", "deepseek_v3"}, {"vocab_size", 102400}, {"hidden_size", 1024}, {"intermediate_size", 2816},
            {"moe_intermediate_size", 352}, {"num_hidden_layers", 12}, {"first_k_dense_replace", 1},
            {"n_routed_experts", 64}, {"n_shared_experts", 2}, {"num_experts_per_tok", 6}, {"n_group", 1},
            {"topk_group", 1}, {"routed_scaling_factor", 1.0}, {"norm_topk_prob", false}, {"q_lora_rank", nullptr},
            {"kv_lora_rank", 256}, {"qk_nope_head_dim", 64}, {"qk_rope_head_dim", 32}, {"v_head_dim", 64},
            {"num_attention_heads", 16}, {"num_key_value_heads", 16}, {"max_position_embeddings", 8192},
            {"rms_norm_eps", 1e-6}, {"tie_word_embeddings", false}};
  if (shape == "tiny")
    return {{"model_type", "deepseek_v3"}, {"vocab_size", 512}, {"hidden_size", 64}, {"intermediate_size", 128},
            {"moe_intermediate_size", 32}, {"num_hidden_layers", 2}, {"first_k_dense_replace", 1},
            {"n_routed_experts", 8}, {"n_shared_experts", 1}, {"num_experts_per_tok", 2}, {"n_group", 1},
            {"topk_group", 1}, {"q_lora_rank", nullptr}, {"kv_lora_rank", 16}, {"qk_nope_head_dim", 16},
            {"qk_rope_head_dim", 8}, {"v_head_dim", 16}, {"num_attention_heads", 4}, {"num_key_value_heads", 4}};
  throw Error("unknown shape '" + shape + "' (expected qwen05, qwen7b, moe-mla or tiny)");
}

namespace {

// The default dtype of tensors made without one (the modules' constructors), for one scope.
class DefaultDtypeScope {
 public:
  explicit DefaultDtypeScope(torch::Dtype dtype) : previous_(c10::get_default_dtype()) {
    c10::set_default_dtype(c10::scalarTypeToTypeMeta(dtype));
  }
  ~DefaultDtypeScope() { c10::set_default_dtype(previous_); }
  DefaultDtypeScope(const DefaultDtypeScope&) = delete;
  DefaultDtypeScope& operator=(const DefaultDtypeScope&) = delete;

 private:
  caffe2::TypeMeta previous_;
};

}  // namespace

model::CausalLM random_model(const std::string& shape, const torch::Device& device, torch::Dtype dtype, uint64_t seed) {
  const auto config = model::parse_model_config(shape_config(shape), shape);
  std::optional<model::CausalLM> built;
  {
    DefaultDtypeScope scope(dtype);
    built.emplace(config);
  }
  auto m = *built;
  model::cast_model(m, dtype);  // the V3 router bias back to float32
  m->to(device);
  model::init_weights(m, seed);
  m->eval();
  return m;
}

int64_t weight_bytes_per_decode_step(model::CausalLM& m, int64_t batch) {
  int64_t total = 0;
  for (const auto& p : m->parameters()) total += p.numel() * p.element_size();
  if (m->config().tie_word_embeddings) return total;
  const auto& embed = m->model->embed_tokens->weight;
  return total - embed.numel() * embed.element_size() + batch * embed.size(1) * embed.element_size();
}

}  // namespace grpo::bench
