// Tensor tables for llama, qwen2, deepseek_v2 and deepseek_v3; see architecture.h. Shapes are
// [out_features, in_features] for linear weights, as transformers stores them.
#include "model/arch/architecture.h"

#include "model/arch/tensor_names.h"

namespace grpo::model {
namespace {

using names::join;

struct Table {
  std::vector<TensorSpec> specs;

  void linear(const std::string& prefix, int64_t out, int64_t in, bool bias) {
    specs.push_back({join(prefix, names::kWeight), {out, in}});
    if (bias) specs.push_back({join(prefix, names::kBias), {out}});
  }
  void norm(const std::string& prefix, int64_t dim) { specs.push_back({join(prefix, names::kWeight), {dim}}); }

  // Linear layers stored apart whose weights (and biases) are row blocks of one fused linear
  // `fused`, in the order given: parts {name, out rows}.
  void fused_linear(const std::string& prefix, const std::string& fused,
                    const std::vector<std::pair<const char*, int64_t>>& parts, int64_t in, bool bias) {
    int64_t offset = 0;
    for (const auto& [part, rows] : parts) {
      specs.push_back({join(join(prefix, part), names::kWeight), {rows, in}, join(join(prefix, fused), names::kWeight), -1, offset});
      if (bias) specs.push_back({join(join(prefix, part), names::kBias), {rows}, join(join(prefix, fused), names::kBias), -1, offset});
      offset += rows;
    }
  }

  // SwiGLU: gate and up fused in gate_up_proj [2I, hidden] (gate rows first), down_proj apart.
  void mlp(const std::string& prefix, int64_t hidden, int64_t inter, bool bias) {
    fused_linear(prefix, names::kGateUpProj, {{names::kGateProj, inter}, {names::kUpProj, inter}}, hidden, bias);
    linear(join(prefix, names::kDownProj), hidden, inter, bias);
  }

  void gqa(const std::string& p, const ModelConfig& c) {
    const int64_t h = c.hidden_size, d = c.head_dim;
    fused_linear(p, names::kQkvProj,
                 {{names::kQProj, c.num_attention_heads * d}, {names::kKProj, c.num_key_value_heads * d},
                  {names::kVProj, c.num_key_value_heads * d}},
                 h, c.qkv_bias);
    linear(join(p, names::kOProj), h, c.num_attention_heads * d, c.o_bias);
  }

  void mla(const std::string& p, const ModelConfig& c) {
    const int64_t h = c.hidden_size, nh = c.num_attention_heads;
    if (c.q_lora_rank > 0) {
      linear(join(p, names::kQAProj), c.q_lora_rank, h, c.mla_a_bias);
      norm(join(p, names::kQALayernorm), c.q_lora_rank);
      linear(join(p, names::kQBProj), nh * c.qk_head_dim(), c.q_lora_rank, false);
    } else {
      linear(join(p, names::kQProj), nh * c.qk_head_dim(), h, false);
    }
    linear(join(p, names::kKvAProjWithMqa), c.kv_lora_rank + c.qk_rope_head_dim, h, c.mla_a_bias);
    norm(join(p, names::kKvALayernorm), c.kv_lora_rank);
    linear(join(p, names::kKvBProj), nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank, false);
    linear(join(p, names::kOProj), h, nh * c.v_head_dim, c.o_bias);
  }

  // Routed experts live in two stacks, experts.gate_up_proj [E, 2I, hidden] and
  // experts.down_proj [E, hidden, I]; a checkpoint holds experts.{e}.{gate,up,down}_proj.weight.
  // DeepSeek's experts have no biases.
  void moe(const std::string& p, const ModelConfig& c) {
    const auto gate = join(p, names::kGate);
    specs.push_back({join(gate, names::kWeight), {c.n_routed_experts, c.hidden_size}});
    if (c.arch == Arch::kDeepseekV3) specs.push_back({join(gate, names::kScoreCorrectionBias), {c.n_routed_experts}});
    const auto experts = join(p, names::kExperts);
    const int64_t h = c.hidden_size, inter = c.moe_intermediate_size;
    for (int64_t e = 0; e < c.n_routed_experts; ++e) {
      const auto expert = join(experts, std::to_string(e));
      const auto gate_up = join(experts, names::kGateUpProj), down = join(experts, names::kDownProj);
      specs.push_back({join(join(expert, names::kGateProj), names::kWeight), {inter, h}, gate_up, e, 0});
      specs.push_back({join(join(expert, names::kUpProj), names::kWeight), {inter, h}, gate_up, e, inter});
      specs.push_back({join(join(expert, names::kDownProj), names::kWeight), {h, inter}, down, e, 0});
    }
    if (c.n_shared_experts > 0)
      mlp(join(p, names::kSharedExperts), c.hidden_size, c.moe_intermediate_size * c.n_shared_experts, c.mlp_bias);
  }

  // A decoder block; `moe_layer` picks the feed-forward kind.
  void block(const std::string& p, const ModelConfig& c, bool moe_layer) {
    norm(join(p, names::kInputLayernorm), c.hidden_size);
    norm(join(p, names::kPostAttentionLayernorm), c.hidden_size);
    if (c.is_mla()) mla(join(p, names::kSelfAttn), c);
    else gqa(join(p, names::kSelfAttn), c);
    if (moe_layer) moe(join(p, names::kMlp), c);
    else mlp(join(p, names::kMlp), c.hidden_size, c.intermediate_size, c.mlp_bias);
  }
};

}  // namespace

std::vector<TensorSpec> tensor_table(const ModelConfig& c) {
  Table t;
  t.specs.push_back({join(join(names::kModel, names::kEmbedTokens), names::kWeight), {c.vocab_size, c.hidden_size}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) t.block(names::layer_prefix(l), c, c.is_moe_layer(l));
  t.norm(join(names::kModel, names::kNorm), c.hidden_size);
  if (!c.tie_word_embeddings) t.linear(names::kLmHead, c.vocab_size, c.hidden_size, false);
  for (int64_t k = 0; k < c.num_nextn_predict_layers; ++k) {
    const auto p = names::layer_prefix(c.num_hidden_layers + k);
    t.norm(join(p, names::kEnorm), c.hidden_size);
    t.norm(join(p, names::kHnorm), c.hidden_size);
    t.linear(join(p, names::kEhProj), c.hidden_size, 2 * c.hidden_size, false);
    t.norm(join(join(p, names::kSharedHead), names::kNorm), c.hidden_size);
    t.block(p, c, c.n_routed_experts > 0);
  }
  return t.specs;
}

std::vector<TensorAlias> tensor_aliases(const ModelConfig& c) {
  const auto embed = join(join(names::kModel, names::kEmbedTokens), names::kWeight);
  const auto head = c.tie_word_embeddings ? embed : join(names::kLmHead, names::kWeight);
  std::vector<TensorAlias> out;
  if (c.tie_word_embeddings) out.push_back({join(names::kLmHead, names::kWeight), embed});
  for (int64_t k = 0; k < c.num_nextn_predict_layers; ++k) {
    const auto p = names::layer_prefix(c.num_hidden_layers + k);
    out.push_back({join(join(p, names::kEmbedTokens), names::kWeight), embed});
    out.push_back({join(join(join(p, names::kSharedHead), names::kHead), names::kWeight), head});
  }
  return out;
}

bool is_mtp_tensor(const ModelConfig& c, const std::string& name) {
  const std::string prefix = std::string(names::kModel) + "." + names::kLayers + ".";
  if (name.rfind(prefix, 0) != 0) return false;
  const auto rest = name.substr(prefix.size());
  const auto dot = rest.find('.');
  try {
    return std::stoll(rest.substr(0, dot)) >= c.num_hidden_layers;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace grpo::model
