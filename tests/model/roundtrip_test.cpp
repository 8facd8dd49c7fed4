// Hugging Face directory round trips (load -> save -> load gives identical tensors, tied and
// untied heads, MTP aliases, sharded saves) and loader errors that name the tensor and shapes.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/arch/architecture.h"
#include "model/io/model_io.h"
#include "test_util.h"
#include "tests/common/fixtures.h"

namespace grpo::model {
namespace {

namespace fs = std::filesystem;
using testing::scratch_dir;

void expect_same_tensors(CausalLM& a, CausalLM& b) {
  auto ta = model_tensors(a), tb = model_tensors(b);
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].first, tb[i].first);
    EXPECT_TRUE(torch::equal(ta[i].second, tb[i].second)) << ta[i].first;
  }
}

std::string load_error(const fs::path& dir) {
  try {
    load_model(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RoundTrip, FixturesSurviveLoadSaveLoad) {
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    SCOPED_TRACE(dir.filename().string());
    auto model = load_model(dir);
    const auto out = scratch_dir("rt_" + dir.filename().string());
    SaveOptions options;
    options.source_dir = dir;
    save_model(model, out, options);
    EXPECT_TRUE(fs::exists(out / "generation_config.json"));
    auto back = load_model(out);
    expect_same_tensors(model, back);
    CheckpointReader saved(out);
    EXPECT_EQ(saved.contains("lm_head.weight"), !model->config().tie_word_embeddings);
  }
}

TEST(RoundTrip, TiedModelAcceptsAnExplicitLmHeadAndUntiedNeedsOne) {
  auto config = testing::tiny_config("qwen2");  // tied
  CausalLM model(config);
  init_weights(model, 3);
  const auto dir = scratch_dir("tied");
  save_model(model, dir);
  auto tensors = checkpoint_tensors(model);
  tensors.emplace_back("lm_head.weight", model->output_weight().detach().clone());
  save_checkpoint(dir, tensors);
  auto back = load_model(dir);
  expect_same_tensors(model, back);

  auto untied = testing::tiny_config("llama");
  CausalLM m2(untied);
  const auto dir2 = scratch_dir("untied");
  save_model(m2, dir2);
  auto t2 = checkpoint_tensors(m2);
  t2.erase(std::remove_if(t2.begin(), t2.end(), [](const auto& p) { return p.first == "lm_head.weight"; }), t2.end());
  save_checkpoint(dir2, t2);
  EXPECT_NE(load_error(dir2).find("missing tensor 'lm_head.weight'"), std::string::npos);
}

TEST(RoundTrip, MtpModuleAndItsAliasesAreSavedAndLoaded) {
  auto config = testing::tiny_config("deepseek_v3");
  CausalLM model(config);
  init_weights(model, 5);
  const auto dir = scratch_dir("mtp");
  SaveOptions options;
  options.max_shard_bytes = 40000;  // forces several shards
  save_model(model, dir, options);
  EXPECT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
  CheckpointReader reader(dir);
  const auto mtp = "model.layers." + std::to_string(config.num_hidden_layers) + ".";
  EXPECT_TRUE(reader.contains(mtp + "eh_proj.weight"));
  EXPECT_TRUE(reader.contains(mtp + "embed_tokens.weight"));
  EXPECT_TRUE(reader.contains(mtp + "shared_head.head.weight"));
  EXPECT_TRUE(reader.contains(mtp + "mlp.gate.e_score_correction_bias"));
  auto back = load_model(dir);
  ASSERT_EQ(back->model->mtp.size(), 1u);
  expect_same_tensors(model, back);
}

TEST(RoundTrip, Bf16SaveKeepsRouterBiasInFloat32) {
  auto config = testing::tiny_config("deepseek_v3");
  CausalLM model(config);
  init_weights(model, 6);
  const auto dir = scratch_dir("bf16");
  SaveOptions options;
  options.dtype = torch::kBFloat16;
  save_model(model, dir, options);
  CheckpointReader reader(dir);
  EXPECT_EQ(reader.entry("model.layers.1.mlp.gate.e_score_correction_bias").dtype, "F32");
  EXPECT_EQ(reader.entry("model.embed_tokens.weight").dtype, "BF16");
  LoadOptions lo;
  lo.dtype = torch::kBFloat16;
  auto back = load_model(dir, lo);
  EXPECT_EQ(back->moe_layers()[0]->gate->e_score_correction_bias.scalar_type(), torch::kFloat32);
}

class LoaderErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = CausalLM(testing::tiny_config("llama"));
    dir_ = scratch_dir("errors");
    save_model(model_, dir_);
    tensors_ = checkpoint_tensors(model_);
  }
  CausalLM model_{nullptr};
  fs::path dir_;
  std::vector<std::pair<std::string, torch::Tensor>> tensors_;
};

TEST_F(LoaderErrors, WrongShapeNamesTensorAndBothShapes) {
  for (auto& [name, t] : tensors_)
    if (name == "model.layers.1.self_attn.k_proj.weight") t = torch::zeros({8, 32});
  save_checkpoint(dir_, tensors_);
  const auto msg = load_error(dir_);
  EXPECT_NE(msg.find("'model.layers.1.self_attn.k_proj.weight' has shape [8, 32], expected [16, 32]"), std::string::npos)
      << msg;
}

TEST_F(LoaderErrors, MissingTensorIsNamed) {
  tensors_.erase(tensors_.begin() + 3);
  const auto name = checkpoint_tensors(model_)[3].first;
  save_checkpoint(dir_, tensors_);
  EXPECT_NE(load_error(dir_).find("missing tensor '" + name + "'"), std::string::npos);
}

TEST_F(LoaderErrors, UnexpectedTensorIsNamed) {
  tensors_.emplace_back("model.layers.7.mlp.gate_proj.weight", torch::zeros({2}));
  save_checkpoint(dir_, tensors_);
  EXPECT_NE(load_error(dir_).find("unexpected tensor 'model.layers.7.mlp.gate_proj.weight'"), std::string::npos);
}

TEST_F(LoaderErrors, TruncatedShardNamesTheByteOffset) {
  const auto file = dir_ / "model.safetensors";
  fs::resize_file(file, fs::file_size(file) - 100);
  const auto msg = load_error(dir_);
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte offset"), std::string::npos) << msg;
}

}  // namespace
}  // namespace grpo::model
