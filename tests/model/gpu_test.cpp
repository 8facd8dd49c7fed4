// Model checks that need a CUDA device (label gpu; skipped without one): bf16 parity with the
// transformers fixtures (logits within 2e-2 relative; greedy ids equal until the first near-tie)
// and the grouped-GEMM MoE path against the float32 expert loop, forward and backward.
//
// MoE fixtures have random routers whose top-k scores differ by less than bf16's resolution for
// some tokens: there bf16 picks another expert (transformers' bf16 does the same; its router
// also runs in float32 on bf16 inputs) and that token's logits move by up to ~0.5 of their
// range; through attention, later tokens of the row move too. So for MoE models the 2e-2 bound
// holds per position, for at least two positions in three (measured on an H200: 77% for the V3
// fixture, whose sigmoid router with 4 groups has the most near-ties; transformers' own bf16
// forward, bench/model/hf_bf16_drift.py, is printed beside it by scripts/gpu-check).
#include <gtest/gtest.h>

#include <algorithm>

#include "model/io/model_io.h"
#include "model/io/safetensors.h"
#include "model/arch/transformer.h"
#include "test_util.h"
#include "tests/common/cuda.h"
#include "tests/common/fixtures.h"

namespace grpo::model {
namespace {

using testing::relative_error;

using grpo::testing::kCuda;

// Calls check(dir, model, expected) for every fixture model, loaded in bf16 on the GPU.
template <typename Check>
void for_each_fixture_in_bf16(Check check) {
  for (const auto& dir : grpo::testing::fixture_dirs("models")) {
    SCOPED_TRACE(dir.filename().string());
    auto model = load_model(dir, {kCuda, torch::kBFloat16});
    auto expected = SafetensorsFile::open(dir / "expected.safetensors");
    torch::NoGradGuard no_grad;
    check(dir, model, *expected);
  }
}

TEST(GpuParity, Bf16LogitsMatchTransformers) {
  GRPO_REQUIRE_CUDA();
  GRPO_REQUIRE_FIXTURES("models");
  for_each_fixture_in_bf16([](const std::filesystem::path& dir, CausalLM& model, SafetensorsFile& expected) {
    ForwardInput in;
    in.input_ids = expected.tensor("input_ids").clone().to(kCuda);
    auto logits = model->logits(model->forward(in).hidden).to(torch::kCPU, torch::kFloat32);
    auto want = expected.tensor("logits").clone();
    const double err = relative_error(logits, want);
    // Error of each position relative to the whole tensor's scale: [B, T].
    auto per_position = (logits - want).abs().amax(-1) / want.abs().max();
    const double over = (per_position > 2e-2).sum().item<double>() / static_cast<double>(per_position.numel());
    std::cout << "[gpu parity] " << dir.filename().string() << " bf16 logits rel err " << err << ", positions over 2e-2: "
              << over * 100 << "%\n";
    if (model->config().n_routed_experts > 0) {
      EXPECT_LE(over, 1.0 / 3.0) << "more positions off than routing near-ties explain";
    } else {
      EXPECT_LE(err, 2e-2);
    }
  });
}

// Greedy bf16 decoding through the cache follows greedy_ids; where a row first departs, the
// reference token must have been a near-tie (within 2% of the logit range) of bf16's choice.
TEST(GpuParity, Bf16GreedyMatchesUntilANearTie) {
  GRPO_REQUIRE_CUDA();
  GRPO_REQUIRE_FIXTURES("models");
  for_each_fixture_in_bf16([](const std::filesystem::path& dir, CausalLM& model, SafetensorsFile& expected) {
    auto prompt = expected.tensor("greedy_prompt").clone();
    auto want = expected.tensor("greedy_ids").clone();
    const int64_t batch = prompt.size(0), start = prompt.size(1), steps = want.size(1) - start;
    InferenceCache cache(model->config(), batch, want.size(1), torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda));
    ForwardInput in;
    in.cache = &cache;
    in.cache_slots = torch::arange(batch, torch::kInt64).to(kCuda);
    in.input_ids = prompt.to(kCuda);
    std::vector<bool> departed(batch, false);
    int64_t matched = 0;
    for (int64_t s = 0; s < steps; ++s) {
      auto logits = model->logits(model->forward(in).hidden.select(1, -1)).to(torch::kCPU, torch::kFloat32);
      auto next = logits.argmax(-1, true);
      for (int64_t b = 0; b < batch; ++b) {
        if (departed[b]) continue;
        const int64_t ref = want[b][start + s].item<int64_t>(), got = next[b][0].item<int64_t>();
        if (ref == got) {
          ++matched;
          continue;
        }
        departed[b] = true;
        const double range = (logits[b].max() - logits[b].min()).item<double>();
        const double gap = (logits[b][got] - logits[b][ref]).item<double>();
        EXPECT_LE(gap, 0.02 * range) << "row " << b << " step " << s << ": not a near-tie";
      }
      // Feed the reference token so the rows that still match keep following transformers.
      in.input_ids = want.select(1, start + s).unsqueeze(1).to(kCuda);
    }
    std::cout << "[gpu parity] " << dir.filename().string() << " bf16 greedy: " << matched << "/" << batch * steps
              << " tokens equal before the first near-tie\n";
  });
}

// A MoE model with grouped-GEMM-friendly sizes: bf16 on CUDA (grouped path) against the same
// weights in float32 (expert loop). Only the outputs are compared at this level: a token whose
// top-k scores differ by less than bf16's resolution goes to another expert in bf16, which moves
// that expert's gradient by a whole token's share (measured: 13% for one expert of 16, while the
// logits agree to 0.4%). The gradients of the grouped path itself are checked below, on fixed rows.
TEST(GpuMoe, GroupedExpertsModelMatchesTheExpertLoop) {
  GRPO_REQUIRE_CUDA();
  nlohmann::json j = {{"model_type", "deepseek_v3"}, {"vocab_size", 256}, {"hidden_size", 64},
                      {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                      {"num_key_value_heads", 4}, {"max_position_embeddings", 128}, {"rms_norm_eps", 1e-6},
                      {"kv_lora_rank", 32}, {"q_lora_rank", nullptr}, {"qk_nope_head_dim", 16},
                      {"qk_rope_head_dim", 8}, {"v_head_dim", 16}, {"n_routed_experts", 16},
                      {"n_shared_experts", 1}, {"num_experts_per_tok", 4}, {"moe_intermediate_size", 32},
                      {"first_k_dense_replace", 1}, {"n_group", 1}, {"topk_group", 1}};
  const auto config = parse_model_config(j, "<gpu moe>");
  torch::manual_seed(3);
  CausalLM reference(config);
  {
    torch::NoGradGuard no_grad;
    // bf16-representable values: the comparison then measures bf16 compute, not weight rounding.
    for (auto& p : reference->parameters()) p.normal_(0.0, 0.08).copy_(p.to(torch::kBFloat16));
  }
  reference->to(kCuda, torch::kFloat32);
  CausalLM grouped(config);
  {
    torch::NoGradGuard no_grad;
    auto src = reference->named_parameters();
    for (auto& p : grouped->named_parameters()) p.value().copy_(src[p.key()]);
  }
  grouped->to(kCuda, torch::kBFloat16);
  auto ids = torch::randint(0, 256, {4, 48}, torch::kInt64).to(kCuda);
  torch::NoGradGuard no_grad;
  auto logits = [&](CausalLM& m) {
    ForwardInput in;
    in.input_ids = ids;
    return m->logits(m->forward(in).hidden).to(torch::kCPU, torch::kFloat32);
  };
  const double err = relative_error(logits(grouped), logits(reference));
  std::cout << "[gpu moe] model, grouped bf16 vs loop fp32: logits rel err " << err << "\n";
  EXPECT_LE(err, 3e-2);
}

// The routed experts alone on fixed sorted rows, laid out as MoeFeedForward lays them out
// (groups of 16-aligned size, zero rows closing each group, two experts without tokens): the
// grouped bf16 path against the float32 expert loop, output and every gradient. Plain bf16
// matmuls with float32 accumulation land near 4e-3 here.
TEST(GpuMoe, GroupedExpertGradientsMatchTheExpertLoop) {
  GRPO_REQUIRE_CUDA();
  const int64_t experts = 8, hidden = 64, intermediate = 32;
  const std::vector<int64_t> counts = {5, 0, 37, 16, 1, 0, 60, 23};
  torch::manual_seed(5);
  RoutedExperts reference(experts, hidden, intermediate);
  std::vector<int64_t> ends;
  int64_t total = 0;
  for (auto c : counts) ends.push_back(total += (c + 15) / 16 * 16);
  auto x = torch::zeros({total, hidden});
  auto upstream = torch::randn({total, hidden});
  {
    torch::NoGradGuard no_grad;
    for (auto* w : {&reference->gate_up_proj, &reference->down_proj}) w->normal_(0.0, 0.1).copy_(w->to(torch::kBFloat16));
    int64_t begin = 0;
    for (size_t e = 0; e < counts.size(); ++e) {
      x.narrow(0, begin, counts[e]).normal_().copy_(x.narrow(0, begin, counts[e]).to(torch::kBFloat16));
      begin = ends[e];
    }
  }
  RoutedExperts grouped(experts, hidden, intermediate);
  {
    torch::NoGradGuard no_grad;
    grouped->gate_up_proj.copy_(reference->gate_up_proj);
    grouped->down_proj.copy_(reference->down_proj);
  }
  reference->to(kCuda, torch::kFloat32);
  grouped->to(kCuda, torch::kBFloat16);
  const auto offsets = torch::tensor(ends, torch::kInt32).to(kCuda);
  struct Result {
    torch::Tensor y, grad_x, grad_gate_up, grad_down;
  };
  auto run = [&](RoutedExperts& m, torch::Dtype dtype) {
    auto input = x.to(kCuda, dtype).requires_grad_(true);
    auto y = m->forward(input, offsets);
    (y.to(torch::kFloat32) * upstream.to(kCuda)).sum().backward();
    auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat32); };
    return Result{cpu(y.detach()), cpu(input.grad()), cpu(m->gate_up_proj.grad()), cpu(m->down_proj.grad())};
  };
  ASSERT_TRUE(grouped->host_free(x.to(kCuda, torch::kBFloat16))) << "the grouped path is not taken";
  const auto want = run(reference, torch::kFloat32), got = run(grouped, torch::kBFloat16);
  const double y_err = relative_error(got.y, want.y), x_err = relative_error(got.grad_x, want.grad_x),
               gate_up_err = relative_error(got.grad_gate_up, want.grad_gate_up),
               down_err = relative_error(got.grad_down, want.grad_down);
  std::cout << "[gpu moe] routed experts, grouped bf16 vs loop fp32: y " << y_err << ", grad x " << x_err
            << ", grad gate_up " << gate_up_err << ", grad down " << down_err << "\n";
  for (double err : {y_err, x_err, gate_up_err, down_err}) EXPECT_LE(err, 1.5e-2);
  // Experts without tokens get exactly zero gradient (the grouped GEMM must not leave them unwritten).
  for (int64_t e : {1, 5}) {
    EXPECT_EQ(got.grad_gate_up[e].abs().max().item<float>(), 0.0f) << "expert " << e;
    EXPECT_EQ(got.grad_down[e].abs().max().item<float>(), 0.0f) << "expert " << e;
  }
}

}  // namespace
}  // namespace grpo::model
