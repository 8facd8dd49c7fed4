// The data-parallel learner case; see learner_case.h.
#include "tests/distributed/learner_case.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "core/config/config_io.h"
#include "model/io/model_io.h"

namespace grpo::testing {
namespace {

std::vector<int64_t> draw_tokens(int64_t n, int64_t vocab) {
  const auto t = torch::randint(1, vocab, {n}, torch::kInt64);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

constexpr int64_t kVocab = 53;

}  // namespace

model::CausalLM case_model() {
  const nlohmann::json config = {{"model_type", "qwen2"},      {"vocab_size", kVocab},       {"hidden_size", 24},
                                 {"intermediate_size", 40},    {"num_hidden_layers", 2},     {"num_attention_heads", 4},
                                 {"num_key_value_heads", 2},   {"tie_word_embeddings", false}};
  model::CausalLM m(model::parse_model_config(config, "<data-parallel case>"));
  model::init_weights(m, 11, 0.2);
  return m;
}

rl::GrpoSettings case_settings(const std::string& aggregation) {
  auto s = config::defaults<rl::GrpoSettings>();
  s.group_size = kCaseGroupSize;
  s.batch_size = kCaseGroupSize * kCasePrompts;
  s.minibatches = 2;
  s.micro_batch_size = 1;
  s.loss_aggregation = aggregation;
  s.kl_beta = 0.1;
  s.entropy_coef = 0.01;
  s.rollout_correction = "token_truncate";
  return s;
}

rl::OptimSettings case_optim() {
  auto o = config::defaults<rl::OptimSettings>();
  o.lr = 0.1;
  o.eps = 0.1;
  o.max_grad_norm = 0.0;
  return o;
}

rl::LearnerBatch case_batch(const std::vector<int64_t>& prompts) {
  // Prompt lengths per group; completion lengths per row (prompt p owns rows 2p, 2p + 1).
  const std::vector<int64_t> prompt_lengths = {3, 5, 2, 4}, completion_lengths = {9, 1, 4, 12, 2, 7, 3, 5};
  const int64_t rows = kCasePrompts * kCaseGroupSize;
  torch::manual_seed(17);
  std::vector<std::vector<int64_t>> all_prompts, all_completions;
  for (int64_t p = 0; p < kCasePrompts; ++p) {
    const auto prompt = draw_tokens(prompt_lengths[p], kVocab);
    for (int64_t g = 0; g < kCaseGroupSize; ++g) {
      all_prompts.push_back(prompt);
      all_completions.push_back(draw_tokens(completion_lengths[p * kCaseGroupSize + g], kVocab));
    }
  }
  const int64_t width = *std::max_element(completion_lengths.begin(), completion_lengths.end());
  const auto advantages = torch::randn({rows});
  const auto rollout_noise = torch::rand({rows, width}), ref_noise = torch::rand({rows, width});

  std::vector<int64_t> selected;
  for (const int64_t p : prompts)
    for (int64_t g = 0; g < kCaseGroupSize; ++g) selected.push_back(p * kCaseGroupSize + g);
  std::vector<std::vector<int64_t>> sub_prompts, sub_completions;
  for (const int64_t r : selected) sub_prompts.push_back(all_prompts[r]), sub_completions.push_back(all_completions[r]);
  const auto index = torch::tensor(selected, torch::kInt64);

  rl::LearnerBatch b;
  b.sequences = rl::make_sequence_batch(sub_prompts, sub_completions, torch::kCPU);
  const auto mask = b.sequences.completion_mask;
  const int64_t w = mask.size(1);
  b.advantages = advantages.index_select(0, index);
  b.loss_mask = mask.clone();
  for (size_t i = 0; i < selected.size(); ++i)
    if (selected[i] == 5) b.loss_mask[static_cast<int64_t>(i)].zero_();  // row 5 truncated
  b.rollout_logprobs = -3.0 * rollout_noise.index_select(0, index).slice(1, 0, w) * mask;
  b.ref_logprobs = -3.0 * ref_noise.index_select(0, index).slice(1, 0, w) * mask;
  return b;
}

std::vector<int64_t> prompts_of_rank(int rank, int world) {
  std::vector<int64_t> out;
  for (int64_t p = rank; p < kCasePrompts; p += world) out.push_back(p);
  return out;
}

namespace {

CaseResult result_of(const rl::LearnerReport& report, model::CausalLM& model, rl::GrpoLearner& learner) {
  CaseResult result;
  result.minibatch_losses = report.minibatch_losses;
  result.grad_norm = report.metrics.at("optim/grad_norm");
  for (const auto& p : model->parameters()) result.weights.push_back(p.detach().clone());
  result.optimizer_state_bytes = learner.optimizer().state_bytes();
  return result;
}

}  // namespace

CaseResult run_case(const std::string& aggregation, const std::vector<int64_t>& prompts,
                    distributed::ProcessGroup* data_parallel, int zero_stage,
                    std::optional<torch::Dtype> compute_dtype) {
  auto model = case_model();
  rl::GrpoLearner learner(model, case_settings(aggregation), case_optim(), 0.7, 16, 1, compute_dtype, data_parallel,
                          zero_stage);
  const auto report = learner.update(case_batch(prompts), 0);
  return result_of(report, model, learner);
}

CaseResult run_two_updates(const std::vector<int64_t>& prompts, distributed::ProcessGroup* data_parallel,
                           int zero_stage, const CaseCheckpoint& checkpoint) {
  namespace fs = std::filesystem;
  auto model = case_model();
  if (!checkpoint.resume_from.empty()) {
    std::vector<torch::Tensor> saved;
    torch::load(saved, (fs::path(checkpoint.resume_from) / "weights.pt").string());
    torch::NoGradGuard no_grad;
    auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(saved.at(i));
  }
  auto optim = case_optim();
  optim.max_grad_norm = 0.05;  // below every step's norm: the clip factor must be the global one
  rl::GrpoLearner learner(model, case_settings("token-mean"), optim, 0.7, 16, 2, std::nullopt, data_parallel,
                          zero_stage);
  const auto batch = case_batch(prompts);
  if (checkpoint.resume_from.empty()) learner.update(batch, 0);
  else learner.optimizer().load(checkpoint.resume_from);
  if (!checkpoint.save_to.empty()) {
    learner.optimizer().gather_shards();
    if (!data_parallel || data_parallel->rank() == 0) {
      fs::create_directories(checkpoint.save_to);
      std::vector<torch::Tensor> weights;
      for (const auto& p : model->parameters()) weights.push_back(p.detach());
      torch::save(weights, (fs::path(checkpoint.save_to) / "weights.pt").string());
      learner.optimizer().save(checkpoint.save_to);
    }
    if (data_parallel) data_parallel->barrier();
  }
  const auto report = learner.update(batch, 1);
  return result_of(report, model, learner);
}

torch::Tensor CaseResult::flat_weights() const {
  std::vector<torch::Tensor> flat;
  for (const auto& w : weights) flat.push_back(w.reshape({-1}));
  return torch::cat(flat);
}

void save_case(const CaseResult& result, const std::string& path) {
  auto tensors = result.weights;
  tensors.push_back(torch::tensor(result.minibatch_losses, torch::kFloat64));
  tensors.push_back(torch::tensor({result.grad_norm}, torch::kFloat64));
  tensors.push_back(torch::tensor(result.optimizer_state_bytes, torch::kInt64));
  torch::save(tensors, path);
}

CaseResult load_case(const std::string& path) {
  std::vector<torch::Tensor> tensors;
  torch::load(tensors, path);
  CaseResult result;
  result.optimizer_state_bytes = tensors.back().item<int64_t>();
  tensors.pop_back();
  result.grad_norm = tensors.back().item<double>();
  tensors.pop_back();
  const auto losses = tensors.back().contiguous();
  result.minibatch_losses.assign(losses.data_ptr<double>(), losses.data_ptr<double>() + losses.numel());
  tensors.pop_back();
  result.weights = std::move(tensors);
  return result;
}

}  // namespace grpo::testing
