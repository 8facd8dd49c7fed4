// policy::make_engine sizes the engine from the `rollout:` settings: max_batch_sequences slots
// (raised to a request's group, bounded by cache_memory_gb), cache rows for the longest prompt
// plus max_new_tokens, CUDA graphs as configured, and stop strings decoded with the policy's
// own tokenizer. The policy is the CLI tests' tiny one (tests/cli/tiny_policy.h), made in a
// scratch directory; the cache budget is checked against the bytes the engine allocates.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/error.h"
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

TEST(EngineFactory, CacheBudgetBoundsTheSlotsToTheSequencesThatFit) {
  const auto& policy = tiny_policy();
  // One slot's cache, measured on an engine of one slot: 12 prompt + 8 new tokens.
  auto one = settings(1, 8);
  const int64_t per_slot = grpo::policy::make_engine(policy, one, 12)->cache_bytes();
  ASSERT_GT(per_slot, 0);
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  auto bounded = settings(64, 8);
  bounded.cache_memory_gb = 5.9 * static_cast<double>(per_slot) / kGiB;  // room for 5 slots, not 6
  const auto engine = grpo::policy::make_engine(policy, bounded, 12);
  EXPECT_EQ(engine->options().slots, 5);
  EXPECT_EQ(engine->cache_bytes(), 5 * per_slot);
  EXPECT_LE(static_cast<double>(engine->cache_bytes()), bounded.cache_memory_gb * kGiB);

  auto roomy = settings(7, 8);
  roomy.cache_memory_gb = 1.0;
  EXPECT_EQ(grpo::policy::make_engine(policy, roomy, 12)->options().slots, 7);
}

TEST(EngineFactory, CacheBudgetBelowOneGroupIsAnErrorNamingTheKeyAndBothSizes) {
  auto s = settings(64, 9);
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  // 1000 bytes per token, max_len 99: a sequence takes 1000 x (99 + 1) = 1e5 bytes.
  s.cache_memory_gb = 3.5e5 / kGiB;  // three sequences
  EXPECT_EQ(grpo::policy::engine_slots(s, 1000, 99, 1), 3);
  EXPECT_EQ(grpo::policy::engine_slots(s, 1000, 99, 3), 3);
  try {
    grpo::policy::engine_slots(s, 1000, 99, 4);
    FAIL() << "a budget of three sequences accepted a group of four";
  } catch (const grpo::Error& e) {
    const std::string m = e.message();
    EXPECT_NE(m.find("'rollout.cache_memory_gb'"), std::string::npos) << m;
    EXPECT_NE(m.find("0.000325963 GiB"), std::string::npos) << m;  // 3.5e5 / 2^30
    EXPECT_NE(m.find("4 sequence(s) of 99 tokens need 0.000372529 GiB"), std::string::npos) << m;  // 4e5 / 2^30
  }
}
