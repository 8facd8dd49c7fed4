// KL estimators (values, verl's clamps, gradients), the in-reward KL penalty, and entropy from
// logits, against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "rl/algorithms/entropy.h"
#include "rl/algorithms/kl.h"

namespace grpo::rl {
namespace {

// π = .5, π_ref = .25 at the sampled token: d = log(π_ref/π) = ln .5 = -.693147
torch::Tensor logp() { return torch::full({1, 1}, std::log(0.5f)); }
torch::Tensor ref() { return torch::full({1, 1}, std::log(0.25f)); }
float kl(const std::string& name, const torch::Tensor& a, const torch::Tensor& b) {
  return kl_estimate(name, a, b).item<float>();
}

TEST(KlEstimators, ValuesAtOnePoint) {
  EXPECT_NEAR(kl("k1", logp(), ref()), 0.693147, 1e-6);  // -d
  EXPECT_NEAR(kl("k2", logp(), ref()), 0.240227, 1e-6);  // ½·d² = ½·.480453
  EXPECT_NEAR(kl("k3", logp(), ref()), 0.193147, 1e-6);  // e^d - d - 1 = .5 + .693147 - 1
}

TEST(KlEstimators, AllAreZeroWhenPoliciesAgree) {
  for (const auto& name : {"k1", "k2", "k3"}) EXPECT_EQ(kl(name, logp(), logp()), 0.0f) << name;
}

TEST(KlEstimators, K3IsClampedAsVerl) {
  // ref - logp = 30 → clamped to 20 → e^20 - 21 → clamped to 10
  EXPECT_FLOAT_EQ(kl("k3", torch::full({1, 1}, -30.0f), torch::zeros({1, 1})), 10.0f);
  // ref - logp = -30 → -20 → e^-20 + 19 = 19.000000002 → 10
  EXPECT_FLOAT_EQ(kl("k3", torch::zeros({1, 1}), torch::full({1, 1}, -30.0f)), 10.0f);
  // k1 and k2 are not clamped (verl): k2 = ½·30² = 450
  EXPECT_FLOAT_EQ(kl("k2", torch::zeros({1, 1}), torch::full({1, 1}, -30.0f)), 450.0f);
  EXPECT_FLOAT_EQ(kl("k1", torch::zeros({1, 1}), torch::full({1, 1}, -30.0f)), 30.0f);
}

TEST(KlEstimators, Gradients) {
  // ∂k1/∂logp = 1; ∂k2/∂logp = logp - ref = .693147; ∂k3/∂logp = 1 - e^d = 1 - .5 = .5
  const double expected[] = {1.0, 0.693147, 0.5};
  int i = 0;
  for (const auto& name : {"k1", "k2", "k3"}) {
    auto x = logp().requires_grad_(true);
    kl_estimate(name, x, ref()).sum().backward();
    EXPECT_NEAR(x.grad().item<float>(), expected[i++], 1e-6) << name;
  }
}

TEST(KlInReward, SubtractsBetaTimesTheMaskedSumPerCompletion) {
  // rewards 1, 0; kl rows (.1, .2, [pad 5]) and (.4, [pad nan], [pad]); β = .5
  // → 1 - .5·.3 = .85 and 0 - .5·.4 = -.2
  auto kl_tokens = torch::tensor({{0.1f, 0.2f, 5.0f}, {0.4f, NAN, 0.0f}});
  auto mask = torch::tensor({{1.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}});
  auto out = subtract_kl_from_rewards(torch::tensor({1.0f, 0.0f}), kl_tokens, mask, 0.5);
  EXPECT_NEAR(out.rewards[0].item<float>(), 0.85, 1e-6);
  EXPECT_NEAR(out.rewards[1].item<float>(), -0.2, 1e-6);
  EXPECT_NEAR(out.metrics.at("kl/in_reward_mean").item<float>(), 0.35, 1e-6);  // (.3 + .4)/2
  EXPECT_NEAR(out.metrics.at("kl/token_mean").item<float>(), 0.7 / 3.0, 1e-6);
  EXPECT_THROW(subtract_kl_from_rewards(torch::ones({3}), kl_tokens, mask, 0.5), Error);
}

TEST(Entropy, FromLogits) {
  // uniform over 2: ln 2; p = (.25, .75) from logits (0, ln 3): -(.25 ln .25 + .75 ln .75) = .562335
  auto h = entropy_from_logits(torch::tensor({{0.0f, 0.0f}, {0.0f, std::log(3.0f)}}));
  EXPECT_NEAR(h[0].item<float>(), 0.693147, 1e-6);
  EXPECT_NEAR(h[1].item<float>(), 0.562335, 1e-6);
  // shift invariance and a peaked distribution near 0 entropy
  EXPECT_NEAR(entropy_from_logits(torch::tensor({100.0f, 100.0f})).item<float>(), 0.693147, 1e-6);
  EXPECT_NEAR(entropy_from_logits(torch::tensor({0.0f, -100.0f})).item<float>(), 0.0, 1e-6);
}

}  // namespace
}  // namespace grpo::rl
