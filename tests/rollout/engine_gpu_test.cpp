// The rollout engine on CUDA (label gpu; skipped without a CUDA device): in float32, greedy
// decoding through CUDA graphs (every decode step; the prefill too where no MoE layer needs the
// host) gives the fixtures' transformers continuations, with prompts admitted in a padded prefill
// bucket; in bf16, a MoE/MLA prefill replayed from its graph writes what the same prefill run
// eagerly writes: the last hidden states and the prompts' cache rows.
#include <gtest/gtest.h>

#include "model/arch/cached_forward.h"
#include "model/io/model_io.h"
#include "model/io/safetensors.h"
#include "rollout/bucket_graphs.h"
#include "rollout/engine.h"
#include "tests/common/cuda.h"
#include "tests/common/fixtures.h"

namespace grpo::rollout {
namespace {

using grpo::testing::kCuda;

std::vector<int64_t> row(const torch::Tensor& t, int64_t i) {
  auto r = t[i].contiguous();
  return {r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()};
}

TEST(GpuRolloutEngine, Float32GraphedGreedyMatchesTransformersForEveryFixtureModel) {
  GRPO_REQUIRE_CUDA();
  GRPO_REQUIRE_FIXTURES("models");
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    SCOPED_TRACE(dir.filename().string());
    auto model = model::load_model(dir, {kCuda, torch::kFloat32});
    auto expected = model::SafetensorsFile::open(dir / "expected.safetensors");
    const auto prompts = expected->tensor("greedy_prompt").clone();
    const auto want = expected->tensor("greedy_ids").clone();
    const int64_t new_tokens = want.size(1) - prompts.size(1);
    EngineOptions options;
    options.slots = 8;
    options.max_len = want.size(1) + 1;
    RolloutEngine engine(model, options);
    // Three requests: the prefill pads its rows to a bucket of four and its prompts to 64 tokens.
    std::vector<int64_t> order = {0, 1, 0};
    std::vector<GenerationRequest> requests;
    for (int64_t i : order) {
      GenerationRequest q;
      q.prompt_ids = row(prompts, i);
      q.max_new_tokens = new_tokens;
      q.sampling.temperature = 0.0;
      requests.push_back(q);
    }
    const auto result = engine.generate(requests, 0);
    for (size_t r = 0; r < order.size(); ++r) {
      const auto full = row(want, order[r]);
      const std::vector<int64_t> tail(full.begin() + prompts.size(1), full.end());
      EXPECT_EQ(result.completions[r][0].token_ids, tail) << "request " << r;
    }
    const auto graphs = engine.graph_counts();
    EXPECT_GT(graphs.decode, 0u) << "decode steps did not run from CUDA graphs";
    if (model->moe_layers().empty()) EXPECT_EQ(graphs.prefill, 1u) << "the prefill did not run from a CUDA graph";
  }
}

model::CausalLM random_moe_mla_bf16() {
  const auto config = model::parse_model_config(
      {{"model_type", "deepseek_v3"}, {"vocab_size", 256}, {"hidden_size", 64}, {"intermediate_size", 128},
       {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 4},
       {"max_position_embeddings", 128}, {"kv_lora_rank", 32}, {"q_lora_rank", nullptr}, {"qk_nope_head_dim", 16},
       {"qk_rope_head_dim", 8}, {"v_head_dim", 16}, {"n_routed_experts", 16}, {"n_shared_experts", 1},
       {"num_experts_per_tok", 4}, {"moe_intermediate_size", 32}, {"first_k_dense_replace", 1}, {"n_group", 1},
       {"topk_group", 1}},
      "<gpu prefill moe>");
  torch::manual_seed(3);
  model::CausalLM m(config);
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.08);
  m->to(kCuda, torch::kBFloat16);
  m->eval();
  return m;
}

TEST(GpuPrefillGraph, ReplayWritesWhatTheEagerPrefillWrites) {
  GRPO_REQUIRE_CUDA();
  auto m = random_moe_mla_bf16();
  torch::NoGradGuard no_grad;
  const int64_t slots = 6, max_len = 96, rows = 4, len = 64;
  const std::vector<int64_t> lengths = {5, 17, 40}, slot_of = {4, 1, 2};  // row 3: no real token
  const auto options = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  model::InferenceCache eager_cache(m->config(), slots, max_len, options), graph_cache(m->config(), slots, max_len, options);
  model::CachedForward eager(m, &eager_cache), graphed(m, &graph_cache);
  ASSERT_TRUE(graphed.prefill_host_free());
  auto staged = torch::zeros({model::PrefillInputs::numel(rows, len)}, torch::kInt64);
  const auto in = model::PrefillInputs::view(staged, rows, len);
  for (size_t i = 0; i < lengths.size(); ++i) {
    in.ids[i].narrow(0, 0, lengths[i]).copy_(torch::randint(0, 256, {lengths[i]}, torch::kInt64));
    in.valid[i].narrow(0, 0, lengths[i]).fill_(1);
    in.slots[i] = slot_of[i];
    in.last[i] = lengths[i] - 1;
  }
  const auto flat = staged.to(kCuda);
  auto eager_hidden = torch::zeros({rows, 64}, options), graph_hidden = torch::zeros({rows, 64}, options);
  eager.prefill(model::PrefillInputs::view(flat, rows, len), eager_hidden);
  BucketGraphs graphs(
      [&](int64_t r, int64_t l) { graphed.prefill(model::PrefillInputs::view(flat, r, l), graph_hidden); },
      kCuda.index());
  graphs.run(rows, len);  // captures (after an eager run) and replays
  graph_hidden.zero_();  // what the replay below leaves is its own
  for (auto& t : graph_cache.latents()) t.zero_();
  graphs.run(rows, len);
  torch::cuda::synchronize();
  const auto near = [](const torch::Tensor& a, const torch::Tensor& b) {
    return torch::allclose(a.to(torch::kFloat32), b.to(torch::kFloat32), 1e-2, 1e-2);
  };
  EXPECT_TRUE(near(graph_hidden.narrow(0, 0, 3), eager_hidden.narrow(0, 0, 3)))
      << "max difference " << (graph_hidden - eager_hidden).abs().max().item<float>();
  EXPECT_GT(graph_hidden.narrow(0, 0, 3).abs().sum().item<float>(), 0.0f);
  for (size_t layer = 0; layer < eager_cache.latents().size(); ++layer)
    for (size_t i = 0; i < lengths.size(); ++i) {
      const auto rows_of = [&](const model::InferenceCache& c) {
        return c.latents()[layer][slot_of[i]].narrow(0, 0, lengths[i]);
      };
      EXPECT_TRUE(near(rows_of(graph_cache), rows_of(eager_cache))) << "layer " << layer << " prompt " << i;
      EXPECT_GT(rows_of(graph_cache).abs().sum().item<float>(), 0.0f) << "layer " << layer << " prompt " << i;
    }
}

}  // namespace
}  // namespace grpo::rollout
