// Packed micro-batches (rl.pack_sequences): every row's prompt + completion back to back in one
// row, attention causal within each sequence, RoPE positions restarting per sequence. On
// the CPU in float32 the packed forward must give the padded forward's log-probs and entropies,
// and the actor loss and every parameter's gradient, within 1e-5, for every registered loss
// aggregation, on each fixture model (GQA: Llama, Qwen2; MLA + MoE: DeepSeek-V2-Lite, V3). The
// learner gives the same step losses and weights packed or padded, by rows or by a token budget,
// which with packing counts real tokens. A packed forward refuses the sequence-wise balance loss.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/io/model_io.h"
#include "rl/algorithms/actor_loss.h"
#include "rl/algorithms/aggregation.h"
#include "rl/trainer/grpo_learner.h"
#include "rl/trainer/packed_batch.h"
#include "tests/common/fixtures.h"
#include "tests/trainer/learner_test_batch.h"

namespace grpo::rl {
namespace {

double max_abs_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(PackedBatch, PacksRowsBackToBackWithRestartingPositionsAndMapsCompletionTokensOntoThem) {
  const auto batch = mixed_length_batch().sequences;
  const auto packed = pack_sequences(batch);
  const std::vector<int64_t> lengths = {12, 6, 6, 16, 8, 8, 6, 7};
  std::vector<int32_t> starts{0};
  for (const int64_t l : lengths) starts.push_back(starts.back() + static_cast<int32_t>(l));
  ASSERT_EQ(packed.input_ids.sizes(), (std::vector<int64_t>{1, starts.back()}));
  EXPECT_TRUE(torch::equal(packed.cu_seqlens, torch::tensor(starts, torch::kInt32)));
  EXPECT_EQ(packed.max_seqlen, 16);
  for (size_t i = 0; i < lengths.size(); ++i) {
    const auto row = packed.input_ids[0].slice(0, starts[i], starts[i + 1]);
    EXPECT_TRUE(torch::equal(row, batch.input_ids[i].slice(0, 0, lengths[i]))) << "row " << i;
    EXPECT_TRUE(torch::equal(packed.positions[0].slice(0, starts[i], starts[i + 1]), torch::arange(lengths[i])));
  }
  // The token after each predicting position is the completion token it predicts.
  const auto next = packed.input_ids[0].index_select(0, (packed.predict_from + 1).reshape({-1})).view_as(batch.targets);
  EXPECT_TRUE(torch::equal(next * batch.completion_mask.to(torch::kInt64), batch.targets));
}

struct Gradients {
  std::vector<std::string> names;
  std::vector<torch::Tensor> values;
};

Gradients loss_gradients(model::CausalLM& m, const torch::Tensor& loss) {
  for (auto& p : m->parameters()) p.mutable_grad() = torch::Tensor();
  loss.backward();
  Gradients g;
  for (const auto& p : m->named_parameters()) {
    g.names.push_back(p.key());
    g.values.push_back(p.value().grad().defined() ? p.value().grad().clone() : torch::zeros_like(p.value()));
  }
  return g;
}

// Every loss term on (clipped ratio against old log-probs, KL to a reference, entropy bonus).
ActorLossResult loss_of(const TokenLogProbs& lp, const LearnerBatch& b, const std::string& aggregation) {
  ActorLossOptions lo;
  lo.aggregation = aggregation;
  lo.aggregation_context.max_completion_length = 16;
  lo.aggregation_context.global_token_count = b.loss_mask.sum().item<double>();
  lo.kl_beta = 0.1;
  lo.entropy_coef = 0.01;
  ActorLossInput in;
  in.logprobs = lp.logprobs;
  in.entropy = lp.entropy;
  in.old_logprobs = b.rollout_logprobs;  // any old log-probs: the ratio is clipped somewhere
  in.advantages = b.advantages;
  in.mask = b.loss_mask;
  in.ref_logprobs = b.ref_logprobs;
  return actor_loss(in, lo);
}

TEST(PackedLearner, PackedForwardGivesThePaddedLogProbsLossAndGradientsOnEveryFixtureForEveryAggregation) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : testing::fixture_dirs("models")) {
    auto m = model::load_model(dir);
    m->train();
    const auto b = mixed_length_batch(m->config().vocab_size);
    const auto padded_lp = completion_logprobs(m, b.sequences, 0.7, SequenceLayout::kPadded);
    const auto packed_lp = completion_logprobs(m, b.sequences, 0.7, SequenceLayout::kPacked);
    const auto& mask = b.sequences.completion_mask;
    const double logprob_diff = max_abs_difference(packed_lp.logprobs * mask, padded_lp.logprobs * mask);
    const double entropy_diff = max_abs_difference(packed_lp.entropy * mask, padded_lp.entropy * mask);
    EXPECT_LT(logprob_diff, 1e-5) << dir.filename();
    EXPECT_LT(entropy_diff, 1e-5) << dir.filename();
    double worst_loss = 0, worst_gradient = 0, largest_gradient = 0;
    for (const auto& aggregation : loss_aggregations().names()) {
      const auto padded = loss_of(completion_logprobs(m, b.sequences, 0.7, SequenceLayout::kPadded), b, aggregation);
      const auto expected = loss_gradients(m, padded.loss);
      const auto packed = loss_of(completion_logprobs(m, b.sequences, 0.7, SequenceLayout::kPacked), b, aggregation);
      const auto got = loss_gradients(m, packed.loss);
      const double loss_diff = std::abs(packed.loss.item<double>() - padded.loss.item<double>());
      EXPECT_LT(loss_diff, 1e-5) << dir.filename() << " " << aggregation;
      worst_loss = std::max(worst_loss, loss_diff);
      ASSERT_EQ(got.names, expected.names);
      for (size_t k = 0; k < got.values.size(); ++k) {
        const double d = max_abs_difference(got.values[k], expected.values[k]);
        EXPECT_LT(d, 1e-5) << dir.filename() << " " << aggregation << " " << got.names[k];
        worst_gradient = std::max(worst_gradient, d);
        largest_gradient = std::max(largest_gradient, expected.values[k].abs().max().item<double>());
      }
    }
    // A comparison of gradients that are all zero would prove nothing.
    EXPECT_GT(largest_gradient, 1e-3) << dir.filename();
    std::cout << dir.filename().string() << ": max |Δ| log-prob " << logprob_diff << ", entropy " << entropy_diff
              << ", loss " << worst_loss << ", gradient " << worst_gradient << " (largest gradient "
              << largest_gradient << ")\n";
  }
}

TEST(PackedLearner, APackedForwardRefusesTheSequenceWiseBalanceLossNamingBothInputs) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : testing::fixture_dirs("models")) {
    auto m = model::load_model(dir);
    if (m->moe_layers().empty()) continue;
    const auto packed = pack_sequences(mixed_length_batch(m->config().vocab_size).sequences);
    model::ForwardInput in;
    in.input_ids = packed.input_ids;
    in.positions = packed.positions;
    in.cu_seqlens = packed.cu_seqlens;
    in.max_seqlen = packed.max_seqlen;
    in.balance_loss_alpha = 1e-3;
    try {
      m->forward(in);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("balance_loss_alpha"), std::string::npos) << message;
      EXPECT_NE(message.find("cu_seqlens"), std::string::npos) << message;
    }
    return;
  }
  FAIL() << "no MoE fixture";
}

// Budget 24 packs the first minibatch (rows 0-3: 12, 6, 6, 16 tokens) as rows {3, 1}, {0, 2} and
// the second (rows 4-7: 8, 8, 6, 7) as {4, 5, 7}, {6}: first-fit over real tokens, longest first.
TEST(PackedLearner, PackedUpdatesGiveThePaddedStepLossesAndWeightsByRowsAndByTokenBudget) {
  const auto batch = mixed_length_batch();
  const auto plans = plan_minibatches(batch, learner_settings("token-mean", 24, true));
  ASSERT_EQ(plans[0].micro_batches.size(), 2u);
  EXPECT_EQ(plans[0].micro_batches[0].rows, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(plans[1].micro_batches[0].rows, (std::vector<int64_t>{4, 5, 7}));
  for (const int64_t budget : {0, 24}) {
    for (const auto& aggregation : loss_aggregations().names()) {
      auto padded_model = tiny_model(), packed_model = tiny_model();
      GrpoLearner padded(padded_model, learner_settings(aggregation, 0, false), gradient_revealing_optim(), 0.7, 16, 1);
      GrpoLearner packed(packed_model, learner_settings(aggregation, budget, true), gradient_revealing_optim(), 0.7,
                         16, 1);
      const auto expected = padded.update(batch, 0);
      const auto got = packed.update(batch, 0);
      ASSERT_EQ(got.minibatch_losses.size(), 2u);
      for (size_t k = 0; k < 2; ++k)
        EXPECT_NEAR(got.minibatch_losses[k], expected.minibatch_losses[k], 1e-5) << aggregation << " budget " << budget;
      EXPECT_EQ(got.trained_tokens, expected.trained_tokens);
      EXPECT_LT(max_difference(weights(packed_model), weights(padded_model)), 1e-5)
          << aggregation << " budget " << budget;
    }
  }
}

TEST(PackedLearner, PackedScoreReturnsThePaddedLogProbsInTheBatchOrder) {
  const auto batch = mixed_length_batch();
  auto padded_model = tiny_model(), packed_model = tiny_model();
  GrpoLearner padded(padded_model, learner_settings("token-mean", 0, false), gradient_revealing_optim(), 0.7, 16, 1);
  GrpoLearner packed(packed_model, learner_settings("token-mean", 24, true), gradient_revealing_optim(), 0.7, 16, 1);
  const auto expected = padded.score(padded_model, batch.sequences);
  const auto got = packed.score(packed_model, batch.sequences);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LT(max_abs_difference(got, expected), 1e-5);
  EXPECT_EQ((got * (1 - batch.sequences.completion_mask)).abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace grpo::rl
