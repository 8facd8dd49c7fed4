// The code reward: fraction of tests passed, assert and stdin/stdout tests, attempts to fake a
// pass, and many samples scored at once through a RewardSet; each with interpreters started per
// test (warm 0) and started ahead (warm 2).
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/reward_set.h"

namespace grpo::rewards {
namespace {

// The parameter is the number of warm interpreters.
class CodeReward : public ::testing::TestWithParam<size_t> {
 protected:
  nlohmann::json params(nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json p = {{"timeout", 3.0}, {"cpu_seconds", 2}, {"memory_mb", 512}, {"warm", GetParam()}};
    p.update(extra);
    return p;
  }
  RewardResult run(const std::string& completion, const nlohmann::json& tests,
                   nlohmann::json extra = nlohmann::json::object()) const {
    Sample s;
    s.completion = completion;
    s.extra = {{"tests", tests}};
    return make_reward("code", params(std::move(extra)))->score(s);
  }
};

const char* kAdd = "Here:\n```python\ndef add(a, b):\n    return a + b\n```\n";

TEST_P(CodeReward, FractionOfAssertTestsPassed) {
  const auto r = run(kAdd, {"assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(-1, 1) == 0"});
  EXPECT_DOUBLE_EQ(r.value, 2.0 / 3.0);
  EXPECT_NE(r.reason.find("test 2"), std::string::npos) << r.reason;
}

TEST_P(CodeReward, StdinStdoutTests) {
  const std::string code = "```python\nn = int(input())\nprint(n * 2)\nprint('done')\n```";
  const nlohmann::json tests = {{{"input", "3\n"}, {"output", "6\ndone\n"}},
                                {{"input", "5"}, {"output", "10  \ndone"}},
                                {{"input", "1"}, {"output", "3\ndone"}}};
  EXPECT_DOUBLE_EQ(run(code, tests).value, 2.0 / 3.0);
}

TEST_P(CodeReward, ExitingEarlyDoesNotPass) {
  const std::string code = "```python\nimport sys\nsys.exit(0)\n```";
  EXPECT_EQ(run(code, {"assert False"}).value, 0.0);
  const std::string fake = "```python\nimport os\nprint('grpo-pass-000000000000000000000000')\nos._exit(0)\n```";
  EXPECT_EQ(run(fake, {"assert False"}).value, 0.0);
}

TEST_P(CodeReward, LastPythonBlockCounts) {
  const std::string text = "```python\ndef add(a, b):\n    return 0\n```\nFixed:\n```python\ndef add(a, b):\n    return a + b\n```";
  EXPECT_EQ(run(text, {"assert add(2, 3) == 5"}).value, 1.0);
  EXPECT_EQ(run("no code here", {"assert True"}).value, 0.0);
}

TEST_P(CodeReward, BadTestsAreErrorsNamingTheField) {
  EXPECT_THROW(run(kAdd, nlohmann::json::array()), Error);
  EXPECT_THROW(run(kAdd, {{{"input", "1"}}}), Error);
  Sample s;
  s.completion = kAdd;
  try {
    make_reward("code", params())->score(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'tests'"), std::string::npos);
  }
  EXPECT_THROW(make_reward("code", {{"language", "rust"}}), Error);
}

TEST_P(CodeReward, ManySamplesThroughARewardSet) {
  RewardSet set({{"code", 1.0, params()}, {"format", 1.0, {{"mode", "lenient"}}}});
  std::vector<Sample> batch(12);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].completion = i % 2 ? kAdd : "```python\ndef add(a, b):\n    return a - b\n```";
    batch[i].extra = {{"tests", {"assert add(1, 1) == 2"}}};
  }
  const auto scores = set.score(batch);
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(scores.values[i][0], i % 2 ? 1.0 : 0.0) << i;
}

TEST_P(CodeReward, WrongOutputShowsExpectedAndGot) {
  const std::string code = "```python\nn = int(input())\nprint(n)\nprint('x' * 100)\n```";
  const auto r = run(code, {{{"input", "4"}, {"output", "4\ny"}}});
  EXPECT_EQ(r.value, 0.0);
  const std::string shown_x = "'" + std::string(40, 'x') + "...'";
  EXPECT_NE(r.reason.find("test 1: line 2: expected 'y', got " + shown_x), std::string::npos) << r.reason;
  const auto short_output = run("```python\nprint(1)\n```", {{{"input", ""}, {"output", "1\n2\n"}}});
  EXPECT_NE(short_output.reason.find("line 2: expected '2', got end of output"), std::string::npos) << short_output.reason;
}

TEST_P(CodeReward, OneCaseTimingOutFailsOnlyThatCase) {
  const std::string code = "```python\nn = int(input())\nwhile n == 0:\n    pass\nprint(n)\n```";
  const auto r = run(code, {{{"input", "1"}, {"output", "1"}}, {{"input", "0"}, {"output", "0"}}, {{"input", "2"}, {"output", "2"}}},
                     {{"timeout", 1.0}, {"cpu_seconds", 1}});
  EXPECT_DOUBLE_EQ(r.value, 2.0 / 3.0);
  EXPECT_NE(r.reason.find("test 2: "), std::string::npos) << r.reason;
  EXPECT_TRUE(r.reason.find("timed out") != std::string::npos || r.reason.find("signal") != std::string::npos) << r.reason;
}

TEST_P(CodeReward, ReadingMoreInputThanGivenFails) {
  const std::string code = "```python\na = int(input())\nb = int(input())\nprint(a + b)\n```";
  const auto r = run(code, {{{"input", "1\n2\n"}, {"output", "3"}}, {{"input", "1\n"}, {"output", "1"}}});
  EXPECT_DOUBLE_EQ(r.value, 0.5);
  EXPECT_NE(r.reason.find("test 2: exit 1 (EOFError"), std::string::npos) << r.reason;
}

TEST_P(CodeReward, HugeOutputHitsTheCap) {
  const std::string code = "```python\nimport sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n```";
  const auto r = run(code, {{{"input", ""}, {"output", "y"}}}, {{"output_kb", 64}});
  EXPECT_EQ(r.value, 0.0);
  EXPECT_NE(r.reason.find("output limit exceeded"), std::string::npos) << r.reason;
}

TEST_P(CodeReward, AllModeScoresOneOnlyWhenEveryTestPasses) {
  const nlohmann::json tests = {"assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(-1, 1) == 0"};
  const auto some = run(kAdd, tests, {{"mode", "all"}});
  EXPECT_EQ(some.value, 0.0);
  EXPECT_NE(some.reason.find("stopped at the first failure; test 2"), std::string::npos) << some.reason;
  EXPECT_EQ(run(kAdd, {"assert add(1, 2) == 3", "assert add(0, 0) == 0"}, {{"mode", "all"}}).value, 1.0);
  EXPECT_THROW(run(kAdd, tests, {{"mode", "most"}}), Error);
}

INSTANTIATE_TEST_SUITE_P(ColdAndWarm, CodeReward, ::testing::Values(size_t{0}, size_t{2}),
                         [](const auto& info) { return info.param ? std::string("Warm") : std::string("Cold"); });

}  // namespace
}  // namespace grpo::rewards
