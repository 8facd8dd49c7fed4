// The optimizer every stage uses: a bf16 model resumed from StageOptimizer's saved state
// (moments, step count, float32 masters) continues bit for bit, and a state saved by another
// model is refused with the file's name. Dynamic loss scaling (float16 training) leaves the
// update as it would be unscaled, backs off on overflow, grows after its interval and resumes
// with its scale.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/filesystem.h"
#include "model/io/model_io.h"
#include "rl/trainer/stage_optimizer.h"

namespace grpo::rl {
namespace {

model::CausalLM tiny_bf16_model(int64_t layers) {
  const nlohmann::json config = {{"model_type", "qwen2"}, {"vocab_size", 61},        {"hidden_size", 16},
                                 {"intermediate_size", 24}, {"num_hidden_layers", layers}, {"num_attention_heads", 2},
                                 {"num_key_value_heads", 1}, {"tie_word_embeddings", true}};
  model::CausalLM m(model::parse_model_config(config, "<tiny>"));
  model::init_weights(m, 5, 0.1);
  model::cast_model(m, torch::kBFloat16);
  return m;
}

OptimSettings settings() {
  OptimSettings o;
  o.lr = 3e-3;
  o.betas = {0.9, 0.95};
  o.weight_decay = 0.01;
  o.schedule = "cosine";
  o.warmup_steps = 1;
  return o;
}

void train_step(model::CausalLM& m, StageOptimizer& opt, int64_t step) {
  torch::manual_seed(static_cast<uint64_t>(step));
  model::ForwardInput in;
  in.input_ids = torch::randint(0, 61, {2, 5}, torch::kInt64);
  for (int micro = 0; micro < 2; ++micro) {
    auto loss = m->logits(m->forward(in).hidden).to(torch::kFloat32).logsumexp(-1).mean();
    opt.backward(loss * 0.5);
  }
  EXPECT_FALSE(opt.step(step, 1.0).skipped);
}

TEST(StageOptimizer, Float32StepsEqualLibTorchsAdamWOverTheUnpackedParameters) {
  // The reference nobody here wrote: torch::optim::AdamW on the model's own parameters, with
  // decay on matrices only, after the same clipped gradients.
  auto ours = tiny_bf16_model(2), theirs = tiny_bf16_model(2);
  model::cast_model(ours, torch::kFloat32);
  model::cast_model(theirs, torch::kFloat32);
  auto o = settings();
  o.schedule = "constant";
  o.warmup_steps = 0;
  o.max_grad_norm = 0.0;
  StageOptimizer opt(ours, o, 10);
  std::vector<torch::Tensor> decayed, plain;
  for (auto& p : theirs->parameters()) (p.dim() >= 2 ? decayed : plain).push_back(p);
  auto base = torch::optim::AdamWOptions(o.lr).betas({0.9, 0.95}).eps(o.eps);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(base).weight_decay(0.01)));
  groups.emplace_back(plain, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(base).weight_decay(0.0)));
  torch::optim::AdamW reference(std::move(groups), base);
  for (int64_t step = 1; step <= 4; ++step) {
    train_step(ours, opt, step);
    torch::manual_seed(static_cast<uint64_t>(step));
    model::ForwardInput in;
    in.input_ids = torch::randint(0, 61, {2, 5}, torch::kInt64);
    for (int micro = 0; micro < 2; ++micro)
      (theirs->logits(theirs->forward(in).hidden).logsumexp(-1).mean() * 0.5).backward();
    reference.step();
    reference.zero_grad();
  }
  auto a = ours->parameters(), b = theirs->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-5, 1e-6)) << "parameter " << i << ": " << (a[i] - b[i]).abs().max().item<float>();
}

TEST(StageOptimizer, Bf16RunResumedFromItsCheckpointStateContinuesBitForBit) {
  const auto dir = std::filesystem::temp_directory_path() / ("grpo_stage_opt_" + std::to_string(::getpid()));
  remove_tree(dir);
  std::filesystem::create_directories(dir);
  auto a = tiny_bf16_model(2);
  StageOptimizer opt_a(a, settings(), 10);
  ASSERT_TRUE(opt_a.masters().mixed());
  train_step(a, opt_a, 1);
  train_step(a, opt_a, 2);
  opt_a.save(dir);
  EXPECT_TRUE(std::filesystem::exists(dir / "optimizer.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "masters.pt"));

  // The resumed run starts from the rounded bf16 weights, as a checkpoint's model files hold them.
  auto b = tiny_bf16_model(2);
  {
    torch::NoGradGuard no_grad;
    auto src = a->parameters(), dst = b->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  StageOptimizer opt_b(b, settings(), 10);
  opt_b.load(dir);
  EXPECT_EQ(opt_b.optimizer().steps_taken(), 2);
  train_step(a, opt_a, 3);
  train_step(b, opt_b, 3);
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
  for (size_t g = 0; g < 2; ++g) EXPECT_TRUE(torch::equal(opt_a.masters().masters()[g], opt_b.masters().masters()[g]));

  auto other = tiny_bf16_model(3);
  StageOptimizer opt_other(other, settings(), 10);
  try {
    opt_other.load(dir);
    FAIL() << "the state of a 2-layer model loaded into a 3-layer one";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("optimizer.pt"), std::string::npos) << e.what();
  }
  remove_tree(dir);
}

// Float32 models, so the CPU can run them: loss scaling is on by request here, as float16 turns it on.
LossScaling scaling(int64_t growth_interval) {
  LossScaling ls;
  ls.enabled = true;
  ls.growth_interval = growth_interval;
  return ls;
}

TEST(StageOptimizer, LossScalingGivesTheUnscaledUpdateAndReportsTheTrueGradientNorm) {
  auto plain = tiny_bf16_model(2), scaled = tiny_bf16_model(2);
  model::cast_model(plain, torch::kFloat32);
  model::cast_model(scaled, torch::kFloat32);
  auto o = settings();
  o.max_grad_norm = 0.05;  // small enough to clip, so the clip factor and the unscaling combine
  StageOptimizer opt_plain(plain, o, 10), opt_scaled(scaled, o, 10, std::nullopt, scaling(2000));
  EXPECT_EQ(opt_plain.loss_scale(), 1.0);
  EXPECT_EQ(opt_scaled.loss_scale(), 65536.0);
  for (int64_t step = 1; step <= 3; ++step) {
    torch::manual_seed(static_cast<uint64_t>(step));
    model::ForwardInput in;
    in.input_ids = torch::randint(0, 61, {2, 5}, torch::kInt64);
    const auto loss_plain = plain->logits(plain->forward(in).hidden).logsumexp(-1).mean();
    const auto loss_scaled = scaled->logits(scaled->forward(in).hidden).logsumexp(-1).mean();
    opt_plain.backward(loss_plain);
    opt_scaled.backward(loss_scaled);
    const auto a = opt_plain.step(step, loss_plain.item<double>());
    const auto b = opt_scaled.step(step, loss_scaled.item<double>());
    EXPECT_TRUE(a.grad.clipped);
    // A power-of-two scale is exact in float32: the same norm and the same weights.
    EXPECT_NEAR(b.grad.norm, a.grad.norm, 1e-6 * a.grad.norm) << "step " << step;
  }
  auto pa = plain->parameters(), pb = scaled->parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-6, 1e-7)) << "parameter " << i << ": " << (pa[i] - pb[i]).abs().max().item<float>();
}

TEST(StageOptimizer, LossScaleHalvesOnOverflowGrowsAfterItsIntervalAndResumes) {
  const auto dir = std::filesystem::temp_directory_path() / ("grpo_loss_scale_" + std::to_string(::getpid()));
  remove_tree(dir);
  std::filesystem::create_directories(dir);
  auto m = tiny_bf16_model(2);
  model::cast_model(m, torch::kFloat32);
  StageOptimizer opt(m, settings(), 10, std::nullopt, scaling(2));
  const auto before = m->parameters()[0].clone();
  // An overflowing backward: the step is skipped, nothing moves, the scale halves.
  opt.backward(m->parameters()[0].sum() * std::numeric_limits<float>::infinity());
  const auto overflow = opt.step(1, 1.0);
  EXPECT_TRUE(overflow.skipped);
  EXPECT_TRUE(torch::equal(m->parameters()[0], before));
  EXPECT_EQ(opt.loss_scale(), 32768.0);
  // A non-finite loss with finite gradients skips the step without backing off.
  train_step(m, opt, 1);  // finite step 1 of 2
  EXPECT_EQ(opt.loss_scale(), 32768.0);
  opt.backward(m->parameters()[0].sum() * 0.0);
  EXPECT_TRUE(opt.step(2, std::nan("")).skipped);
  EXPECT_EQ(opt.loss_scale(), 32768.0);
  train_step(m, opt, 3);  // the second finite step in a row: the scale doubles
  EXPECT_EQ(opt.loss_scale(), 65536.0);
  train_step(m, opt, 4);  // 1 of 2 again
  opt.save(dir);
  EXPECT_TRUE(std::filesystem::exists(dir / "loss_scale.pt"));

  auto resumed_model = tiny_bf16_model(2);
  model::cast_model(resumed_model, torch::kFloat32);
  StageOptimizer resumed(resumed_model, settings(), 10, std::nullopt, scaling(2));
  resumed.load(dir);
  EXPECT_EQ(resumed.loss_scale(), 65536.0);
  train_step(resumed_model, resumed, 5);  // the saved count carries on: 2 of 2
  EXPECT_EQ(resumed.loss_scale(), 131072.0);
  // A damaged scale file is an error naming it.
  std::ofstream(dir / "loss_scale.pt") << "not a tensor archive";
  try {
    resumed.load(dir);
    FAIL() << "a damaged loss_scale.pt loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("loss_scale.pt"), std::string::npos) << e.what();
  }
  remove_tree(dir);
}

TEST(StageOptimizer, Float16ComputeTurnsLossScalingOnAndOtherDtypesLeaveItOff) {
  auto m = tiny_bf16_model(1);
  StageOptimizer bf16(m, settings(), 10, torch::kBFloat16);
  EXPECT_EQ(bf16.loss_scale(), 1.0);
  auto h = tiny_bf16_model(1);
  model::cast_model(h, torch::kFloat32);
  StageOptimizer fp16(h, settings(), 10, torch::kFloat16);
  EXPECT_EQ(fp16.loss_scale(), 65536.0);
  EXPECT_TRUE(fp16.masters().mixed());
}

}  // namespace
}  // namespace grpo::rl
