// What the GRPO learner tests share: a tiny float32 Qwen2-shaped model with wide weights, a
// batch of eight rows of mixed lengths (one masked out of the loss, as a truncated row is), the
// learner settings that switch every loss term on, and an optimizer whose first step reveals the
// gradients. Test-only.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/config/config_io.h"
#include "model/io/model_io.h"
#include "rl/trainer/grpo_learner.h"

namespace grpo::rl {

inline model::CausalLM tiny_model() {
  const nlohmann::json config = {{"model_type", "qwen2"}, {"vocab_size", 61},        {"hidden_size", 16},
                                 {"intermediate_size", 24}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
                                 {"num_key_value_heads", 1}, {"tie_word_embeddings", true}};
  model::CausalLM m(model::parse_model_config(config, "<tiny>"));
  model::init_weights(m, 5, 0.2);  // a wide std, so that log-probs and gradients vary row to row
  return m;
}

// Prompt + completion lengths 12, 6, 6, 16 | 8, 8, 6, 7 (two minibatches of 4 rows), in no
// sorted order, token ids below `vocab`; row 5's completion is masked out of the loss as a
// truncated row would be. Advantages, rollout and reference log-probs are seeded draws.
inline LearnerBatch mixed_length_batch(int64_t vocab = 61) {
  const std::vector<int64_t> prompt_lengths = {3, 5, 2, 4, 6, 1, 3, 2}, completion_lengths = {9, 1, 4, 12, 2, 7, 3, 5};
  torch::manual_seed(3);
  std::vector<std::vector<int64_t>> prompts, completions;
  auto draw = [vocab](int64_t n) {
    const auto t = torch::randint(0, vocab, {n}, torch::kInt64);
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
  };
  for (size_t i = 0; i < prompt_lengths.size(); ++i) {
    prompts.push_back(draw(prompt_lengths[i]));
    completions.push_back(draw(completion_lengths[i]));
  }
  LearnerBatch b;
  b.sequences = make_sequence_batch(prompts, completions, torch::kCPU);
  const auto mask = b.sequences.completion_mask;
  b.advantages = torch::randn({8});
  b.loss_mask = mask.clone();
  b.loss_mask[5].zero_();
  b.rollout_logprobs = -3.0 * torch::rand(mask.sizes()) * mask;
  b.ref_logprobs = -3.0 * torch::rand(mask.sizes()) * mask;
  return b;
}

// Every term of the loss on: the KL in the loss, an entropy bonus, a rollout correction (so
// score() supplies the old log-probs), two optimizer steps per update. Padded micro-batches
// unless pack_sequences.
inline GrpoSettings learner_settings(const std::string& aggregation, int64_t micro_batch_tokens,
                                     bool pack_sequences = false) {
  auto s = config::defaults<GrpoSettings>();
  s.group_size = 4;
  s.batch_size = 8;
  s.minibatches = 2;
  s.micro_batch_size = 4;  // the whole minibatch when no token budget is set
  s.micro_batch_tokens = micro_batch_tokens;
  s.pack_sequences = pack_sequences;
  s.loss_aggregation = aggregation;
  s.kl_beta = 0.1;
  s.entropy_coef = 0.01;
  s.rollout_correction = "token_truncate";
  return s;
}

// AdamW's first step moves each weight by lr · g / (|g| + eps): with lr = eps = 0.1 that is
// about g itself for small gradients, so equal weights after the steps mean equal gradients.
inline OptimSettings gradient_revealing_optim() {
  auto o = config::defaults<OptimSettings>();
  o.lr = 0.1;
  o.eps = 0.1;
  o.max_grad_norm = 0.0;
  return o;
}

inline std::vector<torch::Tensor> weights(model::CausalLM& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m->parameters()) out.push_back(p.detach().clone());
  return out;
}

inline double max_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
  return d;
}

}  // namespace grpo::rl
