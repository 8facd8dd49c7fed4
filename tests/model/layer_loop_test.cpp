// The model's one layer loop (CausalLMImpl::run_layers) in each of its modes, on every fixture:
// the training mode (grad on, activation checkpointing) gives transformers' logits; the fused
// residual-norm mode is exactly the training mode's ops on CPU, with and without a cache; its
// dense-MoE mode agrees within the decode tolerance, and the dense experts alone equal the MoE
// module; the fused mode refuses what would break autograd or what it cannot return.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/torch/device.h"
#include "model/arch/moe_decode.h"
#include "model/io/model_io.h"
#include "model/io/safetensors.h"
#include "test_util.h"
#include "tests/common/fixtures.h"

namespace grpo::model {
namespace {

torch::Tensor expected_tensor(const std::filesystem::path& dir, const std::string& name) {
  return SafetensorsFile::open(dir / "expected.safetensors")->tensor(name).clone();
}

LayerLoopOptions fused(bool dense_moe) {
  LayerLoopOptions o;
  o.fuse_residual_norms = true;
  o.dense_moe = dense_moe;
  return o;
}

// The final-norm hidden states of `ids` [B, T] through a fresh cache: the prompt but its last
// token as a prefill, then the last token as a decode step, both in `mode`.
torch::Tensor through_cache(CausalLM& m, const torch::Tensor& ids, const LayerLoopOptions& mode) {
  const int64_t b = ids.size(0), t = ids.size(1);
  InferenceCache cache(m->config(), b, t, torch::TensorOptions().dtype(torch::kFloat32));
  ForwardInput in;
  in.cache = &cache;
  in.cache_slots = torch::arange(b, torch::kInt64);
  in.layer_loop = mode;
  in.input_ids = ids.narrow(1, 0, t - 1);
  const auto prefill = m->forward(in).hidden;
  in.input_ids = ids.narrow(1, t - 1, 1);
  return torch::cat({prefill, m->forward(in).hidden}, 1);
}

TEST(LayerLoop, TrainingModeWithCheckpointingGivesTransformersLogits) {
  GRPO_REQUIRE_FIXTURES("models");
  set_cpu_threads(0);
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    SCOPED_TRACE(dir.filename().string());
    auto m = load_model(dir);
    m->train();
    m->set_activation_checkpointing(true);
    ForwardInput in;
    in.input_ids = expected_tensor(dir, "input_ids");
    const auto out = m->forward(in);
    EXPECT_TRUE(out.hidden.requires_grad()) << "autograd recorded nothing";
    EXPECT_LE(testing::relative_error(m->logits(out.hidden).detach(), expected_tensor(dir, "logits")), 1e-4);
  }
}

TEST(LayerLoop, FusedResidualNormsAreTheTrainingModesOpsOnCpu) {
  GRPO_REQUIRE_FIXTURES("models");
  set_cpu_threads(0);
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    SCOPED_TRACE(dir.filename().string());
    auto m = load_model(dir);
    const auto ids = expected_tensor(dir, "input_ids");
    ForwardInput in;
    in.input_ids = ids;
    const auto training = m->forward(in).hidden.detach();  // grad mode on: the out-of-place ops
    torch::NoGradGuard no_grad;
    in.layer_loop = fused(false);
    EXPECT_TRUE(torch::equal(m->forward(in).hidden, training));
    EXPECT_TRUE(torch::equal(through_cache(m, ids, fused(false)), through_cache(m, ids, LayerLoopOptions{})));
    // Every expert on every token sums the same products in another order.
    in.layer_loop = fused(true);
    EXPECT_TRUE(torch::allclose(m->forward(in).hidden, training, 1e-4, 1e-4));
    EXPECT_TRUE(torch::allclose(through_cache(m, ids, fused(true)), training, 1e-4, 1e-4));
  }
}

TEST(LayerLoop, FusedModeRefusesAutogradAllHiddenStatesAndDenseMoeAlone) {
  GRPO_REQUIRE_FIXTURES("models");
  auto m = load_model(grpo::testing::fixture_dirs("models").front());
  ForwardInput in;
  in.input_ids = torch::tensor({{5, 9, 33}}, torch::kInt64);
  in.layer_loop = fused(false);
  EXPECT_THROW(m->forward(in), Error) << "in-place residual adds under grad mode";
  torch::NoGradGuard no_grad;
  in.return_all_hidden = true;
  EXPECT_THROW(m->forward(in), Error) << "the residual stream is overwritten, no per-layer states to return";
  in.return_all_hidden = false;
  in.layer_loop = LayerLoopOptions{};
  in.layer_loop.dense_moe = true;
  EXPECT_THROW(m->forward(in), Error) << "dense MoE without fused residual norms";
}

TEST(AllExpertsForward, EqualsTheMoeModule) {
  GRPO_REQUIRE_FIXTURES("models");
  int checked = 0;
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    auto m = load_model(dir);
    torch::NoGradGuard no_grad;
    for (auto* moe : m->moe_layers()) {
      torch::manual_seed(3);
      auto x = torch::randn({7, m->config().hidden_size}, torch::kFloat32);
      ForwardContext ctx;
      EXPECT_TRUE(torch::allclose(all_experts_forward(*moe, x), moe->forward(x, ctx).hidden, 1e-5, 1e-5))
          << dir.filename();
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no fixture model has MoE layers";
}

}  // namespace
}  // namespace grpo::model
