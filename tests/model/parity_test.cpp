// Parity with transformers 5.17 on every fixture under fixtures_root()/models: fp32 logits and
// every hidden state within 1e-4 relative error, and greedy decoding of greedy_prompt through
// the inference cache reproducing greedy_ids exactly. Fixture names are discovered, not listed.
#include <gtest/gtest.h>

#include "core/torch/device.h"
#include "model/io/model_io.h"
#include "model/io/safetensors.h"
#include "test_util.h"
#include "tests/common/fixtures.h"

namespace grpo::model {
namespace {

using testing::relative_error;
constexpr double kTolerance = 1e-4;

struct Expected {
  std::shared_ptr<SafetensorsFile> file;
  torch::Tensor get(const std::string& name) const { return file->tensor(name).clone(); }
};

Expected expected_for(const std::filesystem::path& dir) { return {SafetensorsFile::open(dir / "expected.safetensors")}; }

TEST(Parity, LogitsAndHiddenStatesMatchTransformers) {
  GRPO_REQUIRE_FIXTURES("models");
  set_cpu_threads(0);
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    SCOPED_TRACE(dir.filename().string());
    auto model = load_model(dir);
    auto expected = expected_for(dir);
    torch::NoGradGuard no_grad;
    ForwardInput in;
    in.input_ids = expected.get("input_ids");
    in.return_all_hidden = true;
    auto out = model->forward(in);
    const auto logits_err = relative_error(model->logits(out.hidden), expected.get("logits"));
    std::cout << "[parity] " << dir.filename().string() << " logits rel err " << logits_err << "\n";
    EXPECT_LE(logits_err, kTolerance);
    auto hidden = expected.get("hidden_states");
    ASSERT_EQ(static_cast<int64_t>(out.all_hidden.size()), hidden.size(0));
    for (int64_t i = 0; i < hidden.size(0); ++i) {
      const auto err = relative_error(out.all_hidden[i], hidden[i]);
      std::cout << "[parity] " << dir.filename().string() << " hidden[" << i << "] rel err " << err << "\n";
      EXPECT_LE(err, kTolerance) << "hidden state " << i;
    }
  }
}

TEST(Parity, GreedyDecodingThroughCacheMatchesTransformers) {
  GRPO_REQUIRE_FIXTURES("models");
  set_cpu_threads(0);
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    SCOPED_TRACE(dir.filename().string());
    auto model = load_model(dir);
    auto expected = expected_for(dir);
    auto prompt = expected.get("greedy_prompt");
    auto want = expected.get("greedy_ids");
    const int64_t batch = prompt.size(0), steps = want.size(1) - prompt.size(1);
    ASSERT_GT(steps, 0);
    torch::NoGradGuard no_grad;
    InferenceCache cache(model->config(), batch, want.size(1), torch::TensorOptions().dtype(torch::kFloat32));
    ForwardInput in;
    in.cache = &cache;
    in.cache_slots = torch::arange(batch, torch::kInt64);
    in.input_ids = prompt;
    auto ids = prompt;
    for (int64_t s = 0; s < steps; ++s) {
      auto out = model->forward(in);
      auto next = model->logits(out.hidden.select(1, -1)).argmax(-1, true);
      ids = torch::cat({ids, next}, 1);
      in.input_ids = next;
    }
    EXPECT_TRUE(torch::equal(ids, want)) << "got " << ids << "\nwant " << want;
  }
}

}  // namespace
}  // namespace grpo::model
