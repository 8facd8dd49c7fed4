// policy::make_engine sizes the engine from the `rollout:` settings: max_batch_sequences slots
// (raised to a request's group), cache rows for the longest prompt plus max_new_tokens, CUDA
// graphs as configured, and stop strings decoded with the policy's own tokenizer. The policy is
// the CLI tests' tiny one (tests/cli/tiny_policy.h), made in a scratch directory.
#include <gtest/gtest.h>

#include <algorithm>

#include "policy/engine_factory.h"
#include "tests/cli/cli_files.h"
#include "tests/cli/tiny_policy.h"

namespace {

using grpo::policy::PolicyBundle;

const PolicyBundle& tiny_policy() {
  static const PolicyBundle policy = [] {
    const auto dir = grpo::testing::cli_scratch("policy", "tiny");
    grpo::testing::make_tiny_policy(dir, {"copy 1 2 3 = 123", "add 4 and 5 is 9", "the quick brown fox"});
    grpo::policy::PolicyLoad load;
    load.model_dir = dir;
    load.template_name = "raw";
    return grpo::policy::load_policy_bundle(load);
  }();
  return policy;
}

grpo::datasets::Record record(const std::string& prompt) {
  grpo::datasets::Record r;
  r.prompt = prompt;
  return r;
}

grpo::rollout::RolloutSettings settings(int64_t max_batch_sequences, int64_t max_new_tokens) {
  grpo::rollout::RolloutSettings s;
  s.max_batch_sequences = max_batch_sequences;
  s.max_new_tokens = max_new_tokens;
  s.cuda_graphs = false;
  return s;
}

}  // namespace

TEST(EngineFactory, LongestPromptIsTheLongestEncodingOverEverySet) {
  const auto& policy = tiny_policy();
  const std::vector<grpo::datasets::Record> train = {record("copy 1 2 3 ="), record("add 4")};
  const std::vector<grpo::datasets::Record> eval = {record("the quick brown fox jumps over 1 2 3 4 5 6 7")};
  int64_t longest = 0;
  for (const auto* set : {&train, &eval})
    for (const auto& r : *set) longest = std::max<int64_t>(longest, policy.encode_prompt(r).size());
  ASSERT_GT(static_cast<int64_t>(policy.encode_prompt(eval[0]).size()), static_cast<int64_t>(policy.encode_prompt(train[0]).size()));
  EXPECT_EQ(grpo::policy::longest_prompt(policy, {&train, &eval}), longest);
  EXPECT_EQ(grpo::policy::longest_prompt(policy, {&train}), static_cast<int64_t>(policy.encode_prompt(train[0]).size()));
  EXPECT_EQ(grpo::policy::longest_prompt(policy, {}), 0);
}

TEST(EngineFactory, SlotsAndLengthComeFromTheRolloutSettings) {
  const auto& policy = tiny_policy();
  const auto engine = grpo::policy::make_engine(policy, settings(5, 7), 11);
  EXPECT_EQ(engine->options().slots, 5);
  EXPECT_EQ(engine->options().max_len, 11 + 7);
  EXPECT_FALSE(engine->options().cuda_graphs);
  const std::vector<int64_t> ids = policy.encode("copy 1 2 3", false);
  EXPECT_EQ(engine->options().decode(ids), policy.decode(ids));
}

TEST(EngineFactory, SlotsRiseToHoldTheLargestGroup) {
  const auto& policy = tiny_policy();
  EXPECT_EQ(grpo::policy::make_engine(policy, settings(2, 4), 3, /*min_slots=*/6)->options().slots, 6);
  EXPECT_EQ(grpo::policy::make_engine(policy, settings(8, 4), 3, /*min_slots=*/6)->options().slots, 8);
}
