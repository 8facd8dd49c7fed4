// The composed actor loss (policy loss · IS weights + β·KL - entropy bonus, aggregated) against
// hand-computed values, and its up-front checks of names and required inputs.
#include "rl/algorithms/actor_loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace grpo::rl {
namespace {

// One completion of two tokens, on-policy (old = logp, r = 1), A = 2, π = .5 at each token.
ActorLossInput batch() {
  ActorLossInput in;
  in.logprobs = torch::full({1, 2}, std::log(0.5f)).requires_grad_(true);
  in.advantages = torch::full({1}, 2.0f);
  in.mask = torch::ones({1, 2});
  return in;
}

TEST(ActorLoss, OnPolicyLossIsMinusTheAdvantage) {
  auto out = actor_loss(batch(), {});
  EXPECT_FLOAT_EQ(out.loss.item<float>(), -2.0f);  // -A·r with r = 1, seq-mean-token-mean
  EXPECT_FLOAT_EQ(out.metrics.at("actor/pg_loss").item<float>(), -2.0f);
  EXPECT_FLOAT_EQ(out.metrics.at("actor/clip_frac_high").item<float>(), 0.0f);
}

TEST(ActorLoss, KlTermAddsBetaTimesTheAggregatedEstimate) {
  // k1 = ln .5 - ln .25 = .693147 per token; β = .1 → -2 + .0693147 = -1.930685
  auto in = batch();
  in.ref_logprobs = torch::full({1, 2}, std::log(0.25f));
  ActorLossOptions o;
  o.kl_beta = 0.1;
  o.kl_estimator = "k1";
  auto out = actor_loss(in, o);
  EXPECT_NEAR(out.loss.item<float>(), -1.930685, 1e-6);
  EXPECT_NEAR(out.metrics.at("actor/kl").item<float>(), 0.693147, 1e-6);
  // ∂/∂logp_t = (-A·r + β·∂k1)/len = (-2 + .1)/2 = -.95
  out.loss.backward();
  EXPECT_NEAR(in.logprobs.grad()[0][0].item<float>(), -0.95, 1e-6);
}

TEST(ActorLoss, EntropyBonusIsSubtracted) {
  // entropy 1 and 3 → mean 2; coef .01 → -2 - .02
  auto in = batch();
  in.entropy = torch::tensor({{1.0f, 3.0f}});
  ActorLossOptions o;
  o.entropy_coef = 0.01;
  auto out = actor_loss(in, o);
  EXPECT_NEAR(out.loss.item<float>(), -2.02, 1e-6);
  EXPECT_NEAR(out.metrics.at("actor/entropy").item<float>(), 2.0, 1e-6);
}

TEST(ActorLoss, RolloutWeightsScaleThePolicyTerm) {
  auto in = batch();
  in.is_weights = torch::tensor({{0.5f, 0.25f}});
  EXPECT_NEAR(actor_loss(in, {}).loss.item<float>(), -0.75, 1e-6);  // (-1 - .5)/2
}

TEST(ActorLoss, NamesAndRequiredInputsAreCheckedFirst) {
  ActorLossOptions o;
  o.aggregation = "token_mean";
  EXPECT_THROW(actor_loss(batch(), o), Error);
  o = {};
  o.kl_beta = 0.04;
  try {
    actor_loss(batch(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "ref_logprobs (kl_beta > 0): tensor is required but was not given");
  }
  o = {};
  o.entropy_coef = 0.01;
  EXPECT_THROW(actor_loss(batch(), o), Error);
}

}  // namespace
}  // namespace grpo::rl
