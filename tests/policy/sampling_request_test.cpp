// policy::sampling_request carries every sampling key of the `rollout:` settings into a request
// (the one place GRPO, distillation, evaluation and `grpo generate` build theirs), and
// policy::eval_options makes one sample per prompt greedy while keeping the other keys. The
// policy is the CLI tests' tiny one with stop ids set by the test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/evaluation.h"
#include "policy/sampling_request.h"
#include "tests/cli/cli_files.h"
#include "tests/cli/tiny_policy.h"

namespace {

// The CLI tests' tiny policy with its stop ids replaced by `ids`.
grpo::policy::PolicyBundle policy_with_stop_ids(std::vector<int64_t> ids) {
  const auto dir = grpo::testing::cli_scratch("policy", "sampling");
  grpo::testing::make_tiny_policy(dir, {"copy 1 2 3 = 123", "add 4 and 5 is 9"});
  grpo::policy::PolicyLoad load;
  load.model_dir = dir;
  load.template_name = "raw";
  auto p = grpo::policy::load_policy_bundle(load);
  p.stop_token_ids = std::move(ids);
  return p;
}

grpo::rollout::RolloutSettings non_default_sampling() {
  grpo::rollout::RolloutSettings s;
  s.max_new_tokens = 37;
  s.temperature = 0.7;
  s.top_p = 0.9;
  s.top_k = 20;
  s.min_p = 0.05;
  s.stop_strings = {"</answer>", "\n\n"};
  s.stop_at_eos = true;
  return s;
}

}  // namespace

TEST(SamplingRequest, CarriesEverySamplingKeyAndThePolicysStopIds) {
  const auto policy = policy_with_stop_ids({2, 32000});
  const auto q = grpo::policy::sampling_request(non_default_sampling(), policy, {5, 6, 7}, 8);
  EXPECT_EQ(q.prompt_ids, (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(q.n, 8);
  EXPECT_EQ(q.max_new_tokens, 37);
  EXPECT_DOUBLE_EQ(q.sampling.temperature, 0.7);
  EXPECT_DOUBLE_EQ(q.sampling.top_p, 0.9);
  EXPECT_EQ(q.sampling.top_k, 20);
  EXPECT_DOUBLE_EQ(q.sampling.min_p, 0.05);
  EXPECT_EQ(q.stop_strings, (std::vector<std::string>{"</answer>", "\n\n"}));
  EXPECT_EQ(q.stop_token_ids, (std::vector<int64_t>{2, 32000}));
}

TEST(SamplingRequest, StopAtEosOffLeavesNoStopIds) {
  auto settings = non_default_sampling();
  settings.stop_at_eos = false;
  const auto q = grpo::policy::sampling_request(settings, policy_with_stop_ids({2}), {1}, 1);
  EXPECT_TRUE(q.stop_token_ids.empty());
  EXPECT_EQ(q.stop_strings.size(), 2u);
}

TEST(EvalOptions, OneSamplePerPromptIsGreedyAndKeepsTheOtherKeys) {
  const auto eo = grpo::policy::eval_options(non_default_sampling(), 1, 99);
  EXPECT_EQ(eo.k, 1);
  EXPECT_EQ(eo.seed, 99u);
  EXPECT_DOUBLE_EQ(eo.sampling.temperature, 0.0);
  EXPECT_DOUBLE_EQ(eo.sampling.top_p, 0.9);
  EXPECT_EQ(eo.sampling.top_k, 20);
  EXPECT_DOUBLE_EQ(eo.sampling.min_p, 0.05);
  EXPECT_EQ(eo.sampling.max_new_tokens, 37);
}

TEST(EvalOptions, SeveralSamplesPerPromptUseTheRolloutTemperature) {
  const auto eo = grpo::policy::eval_options(non_default_sampling(), 4, 1);
  EXPECT_EQ(eo.k, 4);
  EXPECT_DOUBLE_EQ(eo.sampling.temperature, 0.7);
}
