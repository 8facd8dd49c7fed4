// Training features: activation checkpointing gives the gradients of the plain backward; MoE
// router statistics count each routed token once; the auxiliary-loss-free bias update moves
// biases against the load; the sequence-wise balance loss has its hand-computed value; the MTP
// module is trainable.
#include <gtest/gtest.h>

#include "model/mixed_precision.h"
#include "model/model_io.h"
#include "test_util.h"

namespace grpo::model {
namespace {

CausalLM random_model(const std::string& type, uint64_t seed = 11) {
  CausalLM model(testing::tiny_config(type));
  init_weights(model, seed, 0.1);
  return model;
}

// Next-token loss of a padded batch (row 1 has 7 real tokens).
torch::Tensor loss_of(CausalLM& model, double balance_alpha) {
  torch::manual_seed(4);
  auto ids = torch::randint(0, model->config().vocab_size, {2, 10}, torch::kInt64);
  auto mask = torch::ones({2, 10}, torch::kBool);
  mask[1].narrow(0, 7, 3).fill_(false);
  ForwardInput in;
  in.input_ids = ids;
  in.attention_mask = mask;
  in.balance_loss_alpha = balance_alpha;
  auto out = model->forward(in);
  auto logp = torch::log_softmax(model->logits(out.hidden.narrow(1, 0, 9)), -1);
  auto token_logp = logp.gather(-1, ids.narrow(1, 1, 9).unsqueeze(-1)).squeeze(-1);
  auto loss = -(token_logp * mask.narrow(1, 1, 9)).sum() / mask.narrow(1, 1, 9).sum();
  return out.aux_loss.defined() ? loss + out.aux_loss : loss;
}

TEST(ActivationCheckpointing, GradientsEqualThePlainBackward) {
  for (const char* type : testing::kModelTypes) {
    SCOPED_TRACE(type);
    auto model = random_model(type);
    model->train();
    const double alpha = model->moe_layers().empty() ? 0.0 : 0.01;
    auto plain_loss = loss_of(model, alpha);
    plain_loss.backward();
    std::map<std::string, torch::Tensor> plain;
    for (const auto& p : model->named_parameters())
      if (p.value().grad().defined()) plain[p.key()] = p.value().grad().clone();
    model->zero_grad();
    model->set_activation_checkpointing(true);
    auto ckpt_loss = loss_of(model, alpha);
    ckpt_loss.backward();
    EXPECT_NEAR(ckpt_loss.item<double>(), plain_loss.item<double>(), 1e-7);
    size_t compared = 0;
    for (const auto& p : model->named_parameters()) {
      if (!plain.count(p.key())) continue;
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_TRUE(torch::allclose(p.value().grad(), plain[p.key()], 1e-5, 1e-7)) << p.key();
      ++compared;
    }
    EXPECT_GT(compared, model->config().num_hidden_layers * 5u);
  }
}

TEST(Moe, RouterStatisticsCountEachRealTokenTopKTimes) {
  auto model = random_model("deepseek_v3");
  torch::NoGradGuard no_grad;
  ForwardInput in;
  in.input_ids = torch::randint(0, 97, {2, 6}, torch::kInt64);
  in.attention_mask = torch::tensor({{1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0}}, torch::kInt64);
  in.record_router_stats = true;
  model->forward(in);
  for (auto* moe : model->moe_layers()) EXPECT_EQ(moe->expert_load().sum().item<int64_t>(), 9 * 2);  // 9 tokens x top-2
  in.record_router_stats = false;
  model->forward(in);
  for (auto* moe : model->moe_layers()) EXPECT_EQ(moe->expert_load().sum().item<int64_t>(), 18);
}

TEST(Moe, BiasUpdateMovesAgainstTheLoadAndResetsIt) {
  auto model = random_model("deepseek_v3");
  auto* moe = model->moe_layers().at(0);
  {
    torch::NoGradGuard no_grad;
    ForwardInput in;
    in.input_ids = torch::randint(0, 97, {4, 8}, torch::kInt64);
    in.record_router_stats = true;
    model->forward(in);
  }
  auto load = moe->expert_load().to(torch::kFloat32);
  auto before = moe->gate->e_score_correction_bias.clone();
  moe->update_bias(0.001);
  auto expected = before + 0.001 * torch::sign(load.mean() - load);
  EXPECT_TRUE(torch::allclose(moe->gate->e_score_correction_bias, expected));
  EXPECT_EQ(moe->expert_load().sum().item<int64_t>(), 0);
}

TEST(Moe, BalanceLossIsAlphaWhenScoresAreUniform) {
  // Zero router weights: every normalized score is 1/E, so sum_i f_i P_i = (1/(K T)) sum_i count_i = 1.
  auto model = random_model("deepseek_v3");
  for (auto* moe : model->moe_layers()) moe->gate->weight.detach().zero_();
  ForwardInput in;
  in.input_ids = torch::randint(0, 97, {3, 5}, torch::kInt64);
  in.balance_loss_alpha = 0.01;
  auto out = model->forward(in);
  ASSERT_TRUE(out.aux_loss.defined());
  EXPECT_NEAR(out.aux_loss.item<double>(), 0.01 * model->moe_layers().size(), 1e-7);
}

TEST(Mtp, ModuleIsTrainableThroughTheSharedHead) {
  auto model = random_model("deepseek_v3");
  model->train();
  auto ids = torch::randint(0, 97, {2, 8}, torch::kInt64);
  ForwardInput in;
  in.input_ids = ids.narrow(1, 0, 7);
  auto hidden = model->forward(in).hidden;
  auto mtp = model->mtp_hidden(0, hidden, ids.narrow(1, 1, 7), in);
  ASSERT_EQ(mtp.sizes(), hidden.sizes());
  auto logp = torch::log_softmax(model->logits(mtp.narrow(1, 0, 6)), -1);
  auto loss = -logp.gather(-1, ids.narrow(1, 2, 6).unsqueeze(-1)).mean();
  loss.backward();
  auto& mtp_layer = model->model->mtp.at(0);
  ASSERT_TRUE(mtp_layer->eh_proj->weight.grad().defined());
  EXPECT_GT(mtp_layer->eh_proj->weight.grad().abs().sum().item<double>(), 0.0);
  EXPECT_GT(model->output_weight().grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace grpo::model

namespace grpo::model {
namespace {

TEST(MixedPrecision, MastersStepInFloat32AndPublishRoundedWeights) {
  CausalLM model(testing::tiny_config("qwen2"));
  init_weights(model, 9, 0.1);
  cast_model(model, torch::kBFloat16);
  model->train();
  MasterWeights masters(model);
  torch::optim::AdamW opt(masters.parameters(), torch::optim::AdamWOptions(1e-2));
  ForwardInput in;
  in.input_ids = torch::randint(0, 97, {2, 6}, torch::kInt64);
  auto loss = model->logits(model->forward(in).hidden).to(torch::kFloat32).logsumexp(-1).mean();
  loss.backward();
  masters.load_gradients();
  for (auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  const auto before = masters.parameters()[0].detach().clone();
  opt.step();
  masters.publish();
  EXPECT_EQ(masters.parameters()[0].scalar_type(), torch::kFloat32);
  EXPECT_FALSE(torch::equal(before, masters.parameters()[0]));
  auto params = model->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(params[i], masters.parameters()[i].to(torch::kBFloat16)));
  }
}

}  // namespace
}  // namespace grpo::model
