// The all-experts MoE decode path on CUDA (label gpu; skipped without a CUDA device): the fused
// router kernel chooses the module router's experts with its weights (V3 sigmoid scores with the
// selection bias, normalization and scaling; V2 softmax scores), and all_experts_forward in bf16
// (fused router, routing weights inside the SwiGLU kernel) matches the module's grouped-expert
// forward in float64, through the split-K down projection (with and without shared experts, for
// token counts that fill one, part of one and two token tiles).
#include <gtest/gtest.h>

#include "model/arch/config.h"
#include "model/arch/moe.h"
#include "model/arch/layers.h"
#include "model/kernels/moe/expert_gate_up.h"
#include "model/kernels/moe/fused_router.h"
#include "model/arch/moe_decode.h"
#include "tests/common/cuda.h"

namespace grpo::model {
namespace {

using grpo::testing::kCuda;

model::ModelConfig moe_config(const std::string& type, bool normalize, double scaling, int shared_experts = 1) {
  return model::parse_model_config(
      {{"model_type", type}, {"vocab_size", 64}, {"hidden_size", 256}, {"intermediate_size", 512},
       {"moe_intermediate_size", 64}, {"num_hidden_layers", 2}, {"first_k_dense_replace", 1},
       {"n_routed_experts", 64}, {"n_shared_experts", shared_experts}, {"num_experts_per_tok", 6}, {"n_group", 1},
       {"topk_group", 1}, {"norm_topk_prob", normalize}, {"routed_scaling_factor", scaling},
       {"q_lora_rank", nullptr}, {"kv_lora_rank", 32}, {"qk_nope_head_dim", 16}, {"qk_rope_head_dim", 16},
       {"v_head_dim", 16}, {"num_attention_heads", 4}, {"num_key_value_heads", 4}},
      "<moe decode " + type + ">");
}

// A bf16 MoE layer on the GPU with random weights (and a random selection bias for V3).
std::shared_ptr<model::MoeFeedForward> random_moe(const model::ModelConfig& c) {
  torch::manual_seed(5);
  auto moe = std::make_shared<model::MoeFeedForward>(c);
  torch::NoGradGuard no_grad;
  for (auto& p : moe->parameters()) p.copy_(torch::randn(p.sizes()) * 0.1);
  if (moe->gate->e_score_correction_bias.defined())
    moe->gate->e_score_correction_bias.copy_(torch::randn({c.n_routed_experts}) * 0.05);
  moe->to(kCuda, torch::kBFloat16);  // the bias too: both routers read it as float32
  return moe;
}

void check_router(const std::string& type, bool normalize, double scaling) {
  SCOPED_TRACE(type);
  const auto c = moe_config(type, normalize, scaling);
  auto moe = random_moe(c);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({64, c.hidden_size}).to(kCuda, torch::kBFloat16);
  ASSERT_TRUE(fused_router_applies(*moe->gate, x));
  const auto got = fused_router_combine(*moe->gate, x).cpu();  // [E, N]
  const auto route = moe->gate->route(x);
  const auto want = torch::zeros({c.n_routed_experts, 64}, torch::kFloat32)
                        .scatter(0, route.indices.t().cpu(), route.weights.t().cpu());
  EXPECT_TRUE(torch::equal(got != 0, want != 0)) << "the kernel chose other experts than the module";
  const double err = (got - want).abs().max().item<double>();
  std::cout << "[gpu router] " << type << ": max weight difference " << err << "\n";
  EXPECT_LE(err, 1e-5 * scaling);
}

TEST(GpuFusedRouter, ChoosesTheModuleExpertsWithItsWeights) {
  GRPO_REQUIRE_CUDA();
  check_router("deepseek_v3", true, 2.5);
  check_router("deepseek_v3", false, 1.0);
  check_router("deepseek_v2", false, 1.0);
}

// The fused gate/up kernel against the same math in float32 tensor ops: every expert's SwiGLU
// activations times the routing weight (exact zeros where not routed), and the shared experts'.
void check_gate_up(int64_t tokens) {
  SCOPED_TRACE(std::to_string(tokens) + " tokens");
  const auto c = moe_config("deepseek_v3", true, 2.5, 2);
  auto moe = random_moe(c);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({tokens, c.hidden_size}).to(kCuda, torch::kBFloat16);
  const auto combine = fused_router_combine(*moe->gate, x);
  const auto& w = moe->experts->gate_up_proj;
  const auto& shared_w = moe->shared_experts->gate_up_proj->weight;
  ASSERT_TRUE(expert_gate_up_applies(x, w, combine, shared_w));
  const auto got = expert_gate_up(x, w, combine, shared_w);
  const auto xf = x.to(torch::kFloat32);
  const auto want = model::swiglu_activation(torch::matmul(xf, w.to(torch::kFloat32).transpose(1, 2))) *
                    combine.unsqueeze(-1);  // [E, N, I]
  const auto shared_want = model::swiglu_activation(torch::matmul(xf, shared_w.to(torch::kFloat32).t()));
  EXPECT_TRUE(torch::equal(got.hidden == 0, want == 0)) << "zeros exactly where no token was routed";
  const double err = (got.hidden.to(torch::kFloat32) - want).abs().max().item<double>() /
                     want.abs().max().item<double>();
  const double shared_err = (got.shared_hidden.to(torch::kFloat32) - shared_want).abs().max().item<double>() /
                            shared_want.abs().max().item<double>();
  std::cout << "[gpu gate/up] " << tokens << " tokens: max error / max value " << err << " (shared " << shared_err
            << ")\n";
  EXPECT_LE(err, 1e-2);  // one bf16 rounding of float32 accumulations
  EXPECT_LE(shared_err, 1e-2);
}

TEST(GpuExpertGateUp, MatchesFloat32TensorOps) {
  GRPO_REQUIRE_CUDA();
  check_gate_up(64);
  check_gate_up(5);    // a partial column tile
  check_gate_up(100);  // two token tiles, the second partial
}

void check_all_experts(int64_t tokens, int shared_experts) {
  SCOPED_TRACE(std::to_string(tokens) + " tokens, " + std::to_string(shared_experts) + " shared experts");
  const auto c = moe_config("deepseek_v3", true, 2.5, shared_experts);
  auto moe = random_moe(c);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({tokens, c.hidden_size}).to(kCuda, torch::kBFloat16);
  // The split-K down projection runs (hidden 256, I 64): float32 partials over several splits.
  const auto partials = all_experts_partials(*moe, x);
  EXPECT_EQ(partials.scalar_type(), torch::kFloat32);
  EXPECT_GT(partials.size(0), 1);
  EXPECT_EQ(partials.sizes().slice(1), x.sizes());
  const auto got = all_experts_forward(*moe, x).to(torch::kFloat64).cpu();
  auto reference = random_moe(c);
  reference->to(torch::kFloat64);
  model::ForwardContext ctx;
  const auto want = reference->forward(x.to(torch::kFloat64), ctx).hidden.cpu();
  const double err = (got - want).norm().item<double>() / want.norm().item<double>();
  const double worst_row = ((got - want).norm(2, {1}) / want.norm(2, {1})).max().item<double>();
  std::cout << "[gpu all experts] " << tokens << " tokens, " << shared_experts
            << " shared: bf16 decode path vs float64 module: rel err " << err << ", worst row " << worst_row << "\n";
  EXPECT_LE(err, 2e-2);  // bf16 activations and weights (a few 4e-3 roundings)
  EXPECT_LE(worst_row, 3e-2);  // every token, including those of a second token tile and a partial one
}

TEST(GpuAllExpertsForward, MatchesTheModuleInFloat64) {
  GRPO_REQUIRE_CUDA();
  check_all_experts(64, 1);
  check_all_experts(5, 1);    // a partial MMA column tile
  check_all_experts(100, 1);  // two token tiles, the second partial
  check_all_experts(64, 0);   // no shared experts
}

}  // namespace
}  // namespace grpo::model
