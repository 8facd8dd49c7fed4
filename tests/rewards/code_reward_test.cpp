// The code reward: fraction of tests passed, assert and stdin/stdout tests, attempts to fake a
// pass, and many samples scored at once through a RewardSet.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/reward_set.h"

namespace grpo::rewards {
namespace {

const nlohmann::json kParams = {{"timeout", 3.0}, {"cpu_seconds", 2}, {"memory_mb", 512}};

RewardResult run(const std::string& completion, const nlohmann::json& tests) {
  Sample s;
  s.completion = completion;
  s.extra = {{"tests", tests}};
  return make_reward("code", kParams)->score(s);
}

const char* kAdd = "Here:\n```python\ndef add(a, b):\n    return a + b\n```\n";

TEST(CodeReward, FractionOfAssertTestsPassed) {
  const auto r = run(kAdd, {"assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(-1, 1) == 0"});
  EXPECT_DOUBLE_EQ(r.value, 2.0 / 3.0);
  EXPECT_NE(r.reason.find("test 2"), std::string::npos) << r.reason;
}

TEST(CodeReward, StdinStdoutTests) {
  const std::string code = "```python\nn = int(input())\nprint(n * 2)\nprint('done')\n```";
  const nlohmann::json tests = {{{"input", "3\n"}, {"output", "6\ndone\n"}},
                                {{"input", "5"}, {"output", "10  \ndone"}},
                                {{"input", "1"}, {"output", "3\ndone"}}};
  EXPECT_DOUBLE_EQ(run(code, tests).value, 2.0 / 3.0);
}

TEST(CodeReward, ExitingEarlyDoesNotPass) {
  const std::string code = "```python\nimport sys\nsys.exit(0)\n```";
  EXPECT_EQ(run(code, {"assert False"}).value, 0.0);
  const std::string fake = "```python\nimport os\nprint('grpo-pass-000000000000000000000000')\nos._exit(0)\n```";
  EXPECT_EQ(run(fake, {"assert False"}).value, 0.0);
}

TEST(CodeReward, LastPythonBlockCounts) {
  const std::string text = "```python\ndef add(a, b):\n    return 0\n```\nFixed:\n```python\ndef add(a, b):\n    return a + b\n```";
  EXPECT_EQ(run(text, {"assert add(2, 3) == 5"}).value, 1.0);
  EXPECT_EQ(run("no code here", {"assert True"}).value, 0.0);
}

TEST(CodeReward, BadTestsAreErrorsNamingTheField) {
  EXPECT_THROW(run(kAdd, nlohmann::json::array()), Error);
  EXPECT_THROW(run(kAdd, {{{"input", "1"}}}), Error);
  Sample s;
  s.completion = kAdd;
  try {
    make_reward("code", kParams)->score(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'tests'"), std::string::npos);
  }
  EXPECT_THROW(make_reward("code", {{"language", "rust"}}), Error);
}

TEST(CodeReward, ManySamplesThroughARewardSet) {
  RewardSet set({{"code", 1.0, kParams}, {"format", 1.0, {{"mode", "lenient"}}}});
  std::vector<Sample> batch(12);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].completion = i % 2 ? kAdd : "```python\ndef add(a, b):\n    return a - b\n```";
    batch[i].extra = {{"tests", {"assert add(1, 1) == 2"}}};
  }
  const auto scores = set.score(batch);
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(scores.values[i][0], i % 2 ? 1.0 : 0.0) << i;
}

}  // namespace
}  // namespace grpo::rewards
