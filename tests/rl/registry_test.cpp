// Registries by name: duplicates fail, unknown names fail listing every valid name, and each
// table holds the built-ins the configs refer to.
#include "rl/algorithms/registry.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "rl/algorithms/advantages.h"
#include "rl/algorithms/aggregation.h"
#include "rl/algorithms/kl.h"
#include "rl/algorithms/policy_loss.h"
#include "rl/algorithms/rollout_correction.h"

namespace grpo::rl {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Registry, RegisteringANameTwiceFails) {
  Registry<int> r("widget");
  r.add("a", 1);
  EXPECT_EQ(error_of([&] { r.add("a", 2); }), "widget 'a' is already registered");
  EXPECT_EQ(r.get("a"), 1);
}

TEST(Registry, UnknownNameListsValidNamesSorted) {
  Registry<int> r("widget");
  r.add("zeta", 1);
  r.add("alpha", 2);
  EXPECT_EQ(error_of([&] { r.get("beta"); }), "unknown widget 'beta'; valid names: alpha, zeta");
}

TEST(Registry, BuiltInTablesHoldTheNamedAlgorithms) {
  EXPECT_EQ(advantage_estimators().joined_names(), "grpo, reinforce_plus_plus_baseline, rloo");
  EXPECT_EQ(policy_losses().joined_names(), "gspo, ppo_clip");
  EXPECT_EQ(
      loss_aggregations().joined_names(),
      "seq-mean-token-mean, seq-mean-token-sum, seq-mean-token-sum-norm, token-mean, token-mean-global");
  EXPECT_EQ(kl_estimators().joined_names(), "k1, k2, k3");
  EXPECT_EQ(rollout_corrections().joined_names(),
            "sequence_mask, sequence_truncate, token_mask, token_truncate");
}

TEST(Registry, UnknownBuiltInNameFailsWithTheList) {
  const auto message = error_of([] { compute_advantages("grpoo", torch::zeros({4}), {}); });
  EXPECT_EQ(message,
            "unknown advantage estimator 'grpoo'; valid names: grpo, reinforce_plus_plus_baseline, rloo");
  EXPECT_NE(error_of([] { loss_aggregations().get("dapo"); }).find("token-mean-global"), std::string::npos);
}

TEST(Registry, UserEntriesCanBeAddedButNotOverBuiltIns) {
  EXPECT_THROW(kl_estimators().add("k3", [](const torch::Tensor& a, const torch::Tensor&) { return a; }),
               Error);
}

}  // namespace
}  // namespace grpo::rl
