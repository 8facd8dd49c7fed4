// The algorithm tables (core/registry.h): each holds the built-ins the configs refer to, an
// unknown name fails listing every valid one, and a built-in cannot be replaced.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "rl/algorithms/advantages.h"
#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/kl.h"
#include "rl/algorithms/policy_loss.h"
#include "rl/algorithms/rollout_correction.h"
#include "tests/common/error_of.h"

namespace grpo::rl {
namespace {

using grpo::testing::error_of;

TEST(AlgorithmTables, HoldTheNamedAlgorithms) {
  EXPECT_EQ(advantage_estimators().joined_names(), "grpo, reinforce_plus_plus_baseline, rloo");
  EXPECT_EQ(policy_losses().joined_names(), "gspo, ppo_clip");
  EXPECT_EQ(
      loss_aggregations().joined_names(),
      "seq-mean-token-mean, seq-mean-token-sum, seq-mean-token-sum-norm, token-mean, token-mean-global");
  EXPECT_EQ(kl_estimators().joined_names(), "k1, k2, k3");
  EXPECT_EQ(rollout_corrections().joined_names(),
            "sequence_mask, sequence_truncate, token_mask, token_truncate");
}

TEST(AlgorithmTables, UnknownNameFailsWithTheList) {
  const auto message = error_of([] { compute_advantages("grpoo", torch::zeros({4}), {}); });
  EXPECT_EQ(message,
            "unknown advantage estimator 'grpoo' (did you mean 'grpo'?); valid names: grpo, "
            "reinforce_plus_plus_baseline, rloo");
  EXPECT_NE(error_of([] { loss_aggregations().get("dapo"); }).find("token-mean-global"), std::string::npos);
  EXPECT_EQ(error_of([] { parse_reward_scaling("std"); }), "unknown reward scaling 'std'; valid names: batch, group, none");
}

TEST(AlgorithmTables, UserEntriesCannotReplaceBuiltIns) {
  EXPECT_THROW(kl_estimators().add("k3", [](const torch::Tensor& a, const torch::Tensor&) { return a; }),
               Error);
}

}  // namespace
}  // namespace grpo::rl
