// Training features: activation checkpointing gives the gradients of the plain backward; MoE
// router statistics count each routed token once; the auxiliary-loss-free bias update moves
// biases against the load; the sequence-wise balance loss has its hand-computed value; the MTP
// module is trainable.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"

#include "model/arch/mixed_precision.h"
#include "model/io/model_io.h"
#include "test_util.h"
#include "tests/common/error_of.h"

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

// The grouped layout (sort, aligned expert groups with zero rows between, scatter back) against
// the definition computed token by token, output and the stacked expert weights' gradients.
TEST(Moe, GroupedExpertsEqualThePerTokenDefinitionWithGradients) {
  auto model = random_model("deepseek_v3");
  auto* moe = model->moe_layers().front();
  moe->to(torch::kFloat64);
  torch::manual_seed(9);
  auto x = torch::randn({37, model->config().hidden_size}, torch::kFloat64);
  ForwardContext ctx;
  auto y = moe->forward(x, ctx).hidden;
  auto probe = torch::randn_like(y);
  (y * probe).sum().backward();
  auto got_gate_up = moe->experts->gate_up_proj.grad().clone(), got_down = moe->experts->down_proj.grad().clone();
  moe->zero_grad();

  torch::Tensor want;
  {
    auto route = moe->gate->route(x);
    std::vector<torch::Tensor> rows;
    for (int64_t n = 0; n < x.size(0); ++n) {
      auto row = moe->shared_experts->swiglu(x[n]);
      for (int64_t k = 0; k < route.indices.size(1); ++k) {
        const int64_t e = route.indices[n][k].item<int64_t>();
        auto h = swiglu_activation(torch::mv(moe->experts->gate_up_proj[e], x[n]));
        row = row + route.weights[n][k].to(torch::kFloat64) * torch::mv(moe->experts->down_proj[e], h);
      }
      rows.push_back(row);
    }
    want = torch::stack(rows);
  }
  EXPECT_TRUE(torch::allclose(y, want, 1e-10, 1e-12));
  (want * probe).sum().backward();
  EXPECT_TRUE(torch::allclose(got_gate_up, moe->experts->gate_up_proj.grad(), 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(got_down, moe->experts->down_proj.grad(), 1e-10, 1e-12));
  EXPECT_GT(got_down.abs().sum().item<double>(), 0.0);
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

// Next-token log-sum-exp of a fixed batch: any differentiable function of every weight.
torch::Tensor plain_loss(CausalLM& model, uint64_t seed) {
  torch::manual_seed(seed);
  ForwardInput in;
  in.input_ids = torch::randint(0, model->config().vocab_size, {2, 6}, torch::kInt64);
  return model->logits(model->forward(in).hidden).to(torch::kFloat32).logsumexp(-1).mean();
}

TEST(MasterWeights, Float32ParametersAreViewsOfTheMastersSoNothingIsCopied) {
  auto model = random_model("qwen2");
  std::vector<torch::Tensor> before;
  for (auto& p : model->parameters()) before.push_back(p.detach().clone());
  MasterWeights masters(model);
  EXPECT_FALSE(masters.mixed());
  ASSERT_EQ(masters.masters().size(), 2u);
  auto params = model->parameters();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], before[i]));  // values kept
  {
    torch::NoGradGuard no_grad;
    masters.masters()[1].fill_(2.0);  // group 1: vectors, e.g. every norm gain
  }
  EXPECT_EQ(model->model->norm->weight[0].item<float>(), 2.0f);
  masters.backward(plain_loss(model, 1));
  EXPECT_GT(masters.masters()[0].grad().abs().sum().item<double>(), 0.0);  // backward wrote the master gradient
  EXPECT_TRUE(masters.gradients()[0].is_same(masters.masters()[0].grad()));
  masters.zero_grad();
  EXPECT_EQ(masters.masters()[0].grad().abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(model->output_weight().grad().defined());  // zeroed, never undefined
}

TEST(MasterWeights, Bf16GradientsAccumulateInFloat32AndSmallUpdatesAreNotLost) {
  auto model = random_model("qwen2");
  cast_model(model, torch::kBFloat16);
  MasterWeights masters(model);
  ASSERT_TRUE(masters.mixed());
  // One backward: its gradient is read where backward wrote it, in bf16 (no float32 copy).
  masters.backward(plain_loss(model, 1));
  const auto g1 = model->output_weight().grad().to(torch::kFloat32).clone();
  const auto single = masters.gradients()[0];
  ASSERT_EQ(single.scalar_type(), torch::kBFloat16);
  // The output weight (tied embedding) is the first matrix of group 0.
  EXPECT_TRUE(torch::equal(single.narrow(0, 0, g1.numel()).view(g1.sizes()).to(torch::kFloat32), g1));
  // Two micro-batches: the gradient is float32(g1) + float32(g2), summed in float32 (the second
  // backward starts from zeroed bf16 gradients).
  masters.backward(plain_loss(model, 2));
  const auto g2 = model->output_weight().grad().to(torch::kFloat32).clone();
  const auto flat = masters.gradients()[0];
  ASSERT_EQ(flat.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(flat.narrow(0, 0, g1.numel()).view(g1.sizes()), g1 + g2));
  EXPECT_EQ(model->output_weight().grad().abs().sum().item<double>(), 0.0);  // moved, not counted twice
  // After zero_grad the next backward replaces the sum (it is not added to the old one), and a
  // step without any backward sees zeros.
  masters.zero_grad();
  masters.backward(plain_loss(model, 3));
  const auto g3 = model->output_weight().grad().to(torch::kFloat32).clone();
  EXPECT_TRUE(torch::equal(masters.gradients()[0].narrow(0, 0, g3.numel()).view(g3.sizes()).to(torch::kFloat32), g3));
  masters.zero_grad();
  for (const auto& g : masters.gradients()) EXPECT_EQ(g.abs().sum().item<double>(), 0.0);

  // Updates far below bf16's resolution (1e-5 on weights of typical size 0.1, whose spacing is
  // ~5e-4) are invisible after one publish but add up in the masters and show after many.
  const auto w0 = model->output_weight().detach().clone();
  for (int i = 0; i < 200; ++i) {
    {
      torch::NoGradGuard no_grad;
      masters.masters()[0].add_(1e-5);
    }
    masters.publish();
    if (i == 0)  // only weights below ~0.004 (spacing < 2e-5) can see a 1e-5 step: a few percent
      EXPECT_LT((model->output_weight() != w0).to(torch::kFloat32).mean().item<float>(), 0.1);
  }
  const auto moved = (model->output_weight().to(torch::kFloat32) - w0.to(torch::kFloat32)).mean().item<float>();
  EXPECT_NEAR(moved, 2e-3, 5e-4);  // 200 · 1e-5, rounded per weight
}

TEST(MasterWeights, Float32ModelCastToBf16KeepsEveryBitOfTheCheckpointInTheMasters) {
  // A float32 checkpoint trained in bf16: the masters must be the file's values, not the bf16
  // grid (the real-model issue: early GRPO steps of lr 5e-6 moved no weight above ~1e-3).
  auto model = random_model("qwen2");
  std::vector<torch::Tensor> exact;
  for (auto& p : model->parameters()) exact.push_back(p.detach().clone());
  MasterWeights masters(model, torch::kBFloat16);
  ASSERT_TRUE(masters.mixed());
  for (auto& p : model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
  // The first matrix of group 0 is the (tied) output weight: its master is the float32 value.
  const auto w = exact[0];
  ASSERT_TRUE(torch::equal(model->output_weight().to(torch::kFloat32), w.to(torch::kBFloat16).to(torch::kFloat32)));
  const auto master_w = masters.masters()[0].narrow(0, 0, w.numel()).view(w.sizes());
  EXPECT_TRUE(torch::equal(master_w, w));
  EXPECT_GT((master_w != master_w.to(torch::kBFloat16).to(torch::kFloat32)).to(torch::kFloat32).mean().item<float>(),
            0.9f);  // random float32 values: almost none on the bf16 grid, so the test can tell
  // A bf16 model gives what it always gave: the bf16 values as masters.
  auto half = random_model("qwen2");
  cast_model(half, torch::kBFloat16);
  const auto half_w = half->output_weight().detach().to(torch::kFloat32).clone();
  MasterWeights from_bf16(half, torch::kBFloat16);
  EXPECT_TRUE(torch::equal(from_bf16.masters()[0].narrow(0, 0, half_w.numel()).view(half_w.sizes()), half_w));
}

TEST(MasterWeights, ABf16ShardKeepsOnlyItsFloat32MastersPublishesOnlyThemAndLoadsWholeGroups) {
  // ZeRO-1's layout: this rank owns the second half of group 0 and all of group 1.
  auto model = random_model("qwen2");
  MasterWeights masters(model, torch::kBFloat16);
  const int64_t n = masters.group_numel(0), begin = n / 2;
  const auto path =
      (std::filesystem::temp_directory_path() / ("grpo_masters_shard_test_" + std::to_string(::getpid()))).string();
  masters.save(path);  // whole, float32
  const auto whole = masters.masters()[0].detach().clone();
  masters.keep_shard(0, begin, n - begin);
  masters.keep_shard(1, 0, masters.group_numel(1));
  ASSERT_EQ(masters.masters()[0].numel(), n - begin);  // the float32 masters of the shard only
  EXPECT_EQ(masters.group_numel(0), n);
  EXPECT_EQ(masters.owned_begin(0), begin);
  EXPECT_TRUE(torch::equal(masters.owned(0), whole.narrow(0, begin, n - begin)));
  masters.backward(plain_loss(model, 1));
  EXPECT_EQ(masters.gradients()[0].numel(), n);  // gradients stay whole (ZeRO-1, not ZeRO-2)
  masters.zero_grad();
  const auto weights_before = masters.rounded_weights()[0].clone();
  {
    torch::NoGradGuard no_grad;
    masters.masters()[0].add_(1.0);
  }
  masters.publish();
  const auto weights = masters.rounded_weights()[0];
  EXPECT_TRUE(torch::equal(weights.narrow(0, 0, begin), weights_before.narrow(0, 0, begin)));  // another rank's
  EXPECT_TRUE(torch::equal(weights.narrow(0, begin, n - begin),
                           masters.masters()[0].detach().to(torch::kBFloat16)));
  EXPECT_NE(grpo::testing::error_of([&] { masters.save(path + ".sharded"); }).find("gather the shards first"), std::string::npos);
  masters.load(path);  // whole groups: the shard's masters, every element's rounded weight
  EXPECT_TRUE(torch::equal(masters.owned(0), whole.narrow(0, begin, n - begin)));
  EXPECT_TRUE(torch::equal(masters.rounded_weights()[0], whole.to(torch::kBFloat16)));
  EXPECT_NE(grpo::testing::error_of([&] { masters.keep_shard(0, 0, n); }).find("called twice"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(MasterWeights, SaveAndLoadRestoreExactValuesAndRefuseAnotherModel) {
  auto model = random_model("qwen2");
  cast_model(model, torch::kBFloat16);
  MasterWeights masters(model);
  {
    torch::NoGradGuard no_grad;
    masters.masters()[0].add_(1e-6);  // below bf16 resolution: only the masters know it
  }
  const auto path =
      (std::filesystem::temp_directory_path() / ("grpo_masters_test_" + std::to_string(::getpid()))).string();
  masters.save(path);
  auto copy = random_model("qwen2");
  cast_model(copy, torch::kBFloat16);
  MasterWeights restored(copy);
  restored.load(path);
  for (size_t g = 0; g < 2; ++g) EXPECT_TRUE(torch::equal(restored.masters()[g], masters.masters()[g]));
  EXPECT_TRUE(torch::equal(copy->output_weight(), masters.masters()[0].narrow(0, 0, copy->output_weight().numel())
                                                      .view(copy->output_weight().sizes())
                                                      .to(torch::kBFloat16)));
  auto other = random_model("llama");
  cast_model(other, torch::kBFloat16);
  MasterWeights wrong(other);
  try {
    wrong.load(path);
    FAIL() << "masters of another model loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grpo_masters_test_"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace grpo::model
