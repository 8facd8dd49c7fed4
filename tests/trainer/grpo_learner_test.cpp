// The GRPO learner's micro-batching on a tiny float32 model: with rl.micro_batch_tokens (rows
// sorted by length, binned by a budget of padded token slots) each optimizer step's loss and the
// weights after the steps equal those of one micro-batch per minibatch, for every registered
// aggregation; score() gives every row its own log-probs in the batch's order; a sequence longer
// than the budget is refused before any work, naming both numbers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/config/config_io.h"
#include "core/error.h"
#include "model/io/model_io.h"
#include "rl/algorithms/aggregation.h"
#include "rl/trainer/grpo_learner.h"

namespace grpo::rl {
namespace {

model::CausalLM tiny_model() {
  const nlohmann::json config = {{"model_type", "qwen2"}, {"vocab_size", 61},        {"hidden_size", 16},
                                 {"intermediate_size", 24}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
                                 {"num_key_value_heads", 1}, {"tie_word_embeddings", true}};
  model::CausalLM m(model::parse_model_config(config, "<tiny>"));
  model::init_weights(m, 5, 0.2);  // a wide std, so that log-probs and gradients vary row to row
  return m;
}

// Prompt + completion lengths 12, 6, 6, 16 | 8, 8, 6, 7 (two minibatches of 4 rows), in no
// sorted order; row 5's completion is masked out of the loss as a truncated row would be.
LearnerBatch mixed_length_batch() {
  const std::vector<int64_t> prompt_lengths = {3, 5, 2, 4, 6, 1, 3, 2}, completion_lengths = {9, 1, 4, 12, 2, 7, 3, 5};
  torch::manual_seed(3);
  std::vector<std::vector<int64_t>> prompts, completions;
  for (size_t i = 0; i < prompt_lengths.size(); ++i) {
    auto draw = [](int64_t n) {
      const auto t = torch::randint(0, 61, {n}, torch::kInt64);
      return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
    };
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
// score() supplies the old log-probs), two optimizer steps per update.
GrpoSettings learner_settings(const std::string& aggregation, int64_t micro_batch_tokens) {
  auto s = config::defaults<GrpoSettings>();
  s.group_size = 4;
  s.batch_size = 8;
  s.minibatches = 2;
  s.micro_batch_size = 4;  // the whole minibatch when no token budget is set
  s.micro_batch_tokens = micro_batch_tokens;
  s.loss_aggregation = aggregation;
  s.kl_beta = 0.1;
  s.entropy_coef = 0.01;
  s.rollout_correction = "token_truncate";
  return s;
}

// AdamW's first step moves each weight by lr · g / (|g| + eps): with lr = eps = 0.1 that is
// about g itself for small gradients, so equal weights after the steps mean equal gradients.
OptimSettings gradient_revealing_optim() {
  auto o = config::defaults<OptimSettings>();
  o.lr = 0.1;
  o.eps = 0.1;
  o.max_grad_norm = 0.0;
  return o;
}

std::vector<torch::Tensor> weights(model::CausalLM& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m->parameters()) out.push_back(p.detach().clone());
  return out;
}

double max_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
  return d;
}

// Budget 20 cuts the first minibatch into {16}, {12}, {6, 6} and the second into {8, 8}, {7, 6}.
TEST(GrpoLearner, TokenBudgetMicroBatchesGiveTheWholeMinibatchLossAndGradientsForEveryAggregation) {
  const auto batch = mixed_length_batch();
  for (const auto& aggregation : loss_aggregations().names()) {
    auto whole_model = tiny_model(), budget_model = tiny_model();
    GrpoLearner whole(whole_model, learner_settings(aggregation, 0), gradient_revealing_optim(), 0.7, 16, 1);
    GrpoLearner budget(budget_model, learner_settings(aggregation, 20), gradient_revealing_optim(), 0.7, 16, 1);
    ASSERT_EQ(plan_minibatches(batch, learner_settings(aggregation, 20))[0].micro_batches.size(), 3u);
    const auto before = weights(whole_model);
    const auto expected = whole.update(batch, 0);
    const auto got = budget.update(batch, 0);
    ASSERT_EQ(expected.minibatch_losses.size(), 2u);
    ASSERT_EQ(got.minibatch_losses.size(), 2u);
    for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(got.minibatch_losses[k], expected.minibatch_losses[k], 1e-5) << aggregation;
    EXPECT_EQ(got.skipped_steps, 0);
    EXPECT_EQ(got.trained_tokens, expected.trained_tokens);
    EXPECT_GT(max_difference(weights(whole_model), before), 1e-2) << aggregation << ": the steps moved nothing";
    EXPECT_LT(max_difference(weights(budget_model), weights(whole_model)), 1e-5) << aggregation;
  }
}

TEST(GrpoLearner, ScoreReturnsEachRowsLogProbsInTheBatchOrderUnderATokenBudget) {
  const auto batch = mixed_length_batch();
  auto rows_model = tiny_model(), budget_model = tiny_model();
  auto rows_settings = learner_settings("token-mean", 0);
  rows_settings.micro_batch_size = 3;
  GrpoLearner by_rows(rows_model, rows_settings, gradient_revealing_optim(), 0.7, 16, 1);
  GrpoLearner by_tokens(budget_model, learner_settings("token-mean", 20), gradient_revealing_optim(), 0.7, 16, 1);
  const auto expected = by_rows.score(rows_model, batch.sequences);
  const auto got = by_tokens.score(budget_model, batch.sequences);
  ASSERT_EQ(got.sizes(), batch.sequences.targets.sizes());
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
  // Each row alone, unpadded: the values belong to that row, and padding stays 0.
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < batch.sequences.rows(); ++i) {
    const auto alone = completion_logprobs(budget_model, select_rows(batch.sequences, {i}), 0.7).logprobs[0];
    const int64_t c = batch.sequences.completion_lengths[static_cast<size_t>(i)];
    EXPECT_LT((got[i].slice(0, 0, c) - alone).abs().max().item<double>(), 1e-5) << "row " << i;
    EXPECT_EQ(got[i].slice(0, c).abs().sum().item<double>(), 0.0) << "row " << i;
  }
}

TEST(GrpoLearner, ASequenceLongerThanTheTokenBudgetFailsBeforeAnyStepNamingBothNumbers) {
  const auto batch = mixed_length_batch();
  auto m = tiny_model();
  GrpoLearner learner(m, learner_settings("token-mean", 15), gradient_revealing_optim(), 0.7, 16, 1);
  const auto before = weights(m);
  try {
    learner.update(batch, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'rl.micro_batch_tokens' is 15 "), std::string::npos) << message;
    EXPECT_NE(message.find("has 16 tokens"), std::string::npos) << message;
  }
  EXPECT_EQ(max_difference(weights(m), before), 0.0);
}

TEST(GrpoLearner, ANegativeTokenBudgetIsAValidationErrorNamingTheKey) {
  auto s = learner_settings("token-mean", -1);
  const auto problems = validate(s);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("'rl.micro_batch_tokens' must be >= 0"), std::string::npos) << problems[0];
}

// mismatch/abs_logp_{mean,max} compare the pre-update policy with the rollout over every
// completion token (the truncated row 5 too), whatever the micro-batches: scored old log-probs
// with a rollout correction, pass 0's forwards without one. The max is the largest token's.
TEST(GrpoLearner, MismatchMetricsCoverEveryCompletionTokenOfThePreUpdatePolicy) {
  const auto batch = mixed_length_batch();
  for (const std::string correction : {"token_truncate", "none"}) {
    auto m = tiny_model();
    auto settings = learner_settings("token-mean", 0);
    settings.minibatches = 1;
    settings.batch_size = 8;
    settings.micro_batch_size = 3;  // micro-batches of 3, 3 and 2 rows
    settings.rollout_correction = correction;
    GrpoLearner learner(m, settings, gradient_revealing_optim(), 0.7, 16, 1);
    const auto mask = batch.sequences.completion_mask;
    const auto abs_diff = (learner.score(m, batch.sequences) - batch.rollout_logprobs).abs() * mask;
    const auto report = learner.update(batch, 0);
    EXPECT_NEAR(report.metrics.at("mismatch/abs_logp_mean"), (abs_diff.sum() / mask.sum()).item<double>(), 1e-6)
        << correction;
    EXPECT_NEAR(report.metrics.at("mismatch/abs_logp_max"), abs_diff.max().item<double>(), 1e-6) << correction;
  }
}

}  // namespace
}  // namespace grpo::rl
