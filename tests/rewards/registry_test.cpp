// The registry, parameter checking, weighted reward sets and the YAML loader.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "core/error.h"
#include "rewards/reward_config.h"
#include "rewards/reward_set.h"
#include "tests/common/error_of.h"

namespace grpo::rewards {
namespace {

using grpo::testing::error_of;

TEST(Registry, BuiltinsAreRegistered) {
  const auto names = reward_names();
  for (const char* n : {"math_accuracy", "format", "tag_count", "countdown", "code", "language_consistency",
                        "soft_overlong", "cosine_length", "repetition_penalty", "external"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
}

TEST(Registry, UnknownNameListsTheValidOnes) {
  const auto message = error_of([] { make_reward("math_acuracy", {}); });
  EXPECT_NE(message.find("did you mean 'math_accuracy'"), std::string::npos) << message;
  EXPECT_NE(message.find("countdown"), std::string::npos) << message;
}

TEST(Registry, RegisteringTwiceFails) {
  reward_names();  // built-ins first
  EXPECT_THROW(register_reward("format", [](Params&) -> std::unique_ptr<Reward> { return nullptr; }), Error);
}

TEST(Registry, UnknownParamNamesTheValidOnes) {
  const auto message = error_of([] { make_reward("countdown", {{"formatscore", 0.2}}); });
  EXPECT_NE(message.find("'formatscore'"), std::string::npos) << message;
  EXPECT_NE(message.find("format_score"), std::string::npos) << message;
  EXPECT_NE(error_of([] { make_reward("countdown", {{"score", "high"}}); }).find("wrong type"), std::string::npos);
}

TEST(RewardSet, WeightedTotalsAndReasons) {
  RewardSet set({{"math_accuracy", 1.0, {}}, {"format", 0.5, {{"mode", "lenient"}}}});
  Sample good, bad;
  good.completion = "<think>2+2</think><answer>4</answer>";
  good.answer = "4";
  bad.completion = "4";
  bad.answer = "5";
  const auto scores = set.score({good, bad});
  ASSERT_EQ(scores.names, (std::vector<std::string>{"math_accuracy", "format"}));
  EXPECT_DOUBLE_EQ(scores.totals[0], 1.5);
  EXPECT_DOUBLE_EQ(scores.totals[1], 0.0);
  EXPECT_EQ(scores.values[0][1], 1.0);
  EXPECT_FALSE(scores.reasons[1][0].empty());
}

TEST(RewardSet, ShufflingTheBatchDoesNotChangePerSampleScores) {
  RewardSet set({{"math_accuracy", 1.0, {}}, {"repetition_penalty", 1.0, {}}});
  std::vector<Sample> batch;
  for (int i = 0; i < 64; ++i) {
    Sample s;
    s.completion = "a b c a b \\boxed{" + std::to_string(i % 7) + "}";
    s.answer = std::to_string(i % 5);
    batch.push_back(s);
  }
  const auto forward = set.score(batch);
  std::reverse(batch.begin(), batch.end());
  const auto backward = set.score(batch);
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(forward.totals[i], backward.totals[batch.size() - 1 - i]);
}

TEST(RewardSet, SampleErrorsNameTheSample) {
  RewardSet set({{"countdown", 1.0, {}}});
  Sample s;
  s.completion = "<answer>1</answer>";
  const auto message = error_of([&] { set.score({s}, [](size_t i) { return "in.jsonl:" + std::to_string(i + 7); }); });
  EXPECT_NE(message.find("in.jsonl:7"), std::string::npos) << message;
  EXPECT_NE(message.find("'numbers'"), std::string::npos) << message;
  EXPECT_THROW(RewardSet({{"format", 1.0, {}}, {"format", 2.0, {}}}), Error);
}

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/grpo-rewards-yaml-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(RewardConfig, LoadsSpecsWithJsonParams) {
  const auto path = write_temp(
      "policy: {path: x}\nrl:\n  group_size: 4\nrewards:\n  - name: math_accuracy\n    weight: 2\n    params: {extract: [boxed], tolerance: 1e-4}\n"
      "  - name: format\n    params:\n      mode: 'lenient'\n");
  const auto specs = load_reward_specs(path);
  unlink(path.c_str());
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].weight, 2.0);
  EXPECT_EQ(specs[0].params["extract"], nlohmann::json({"boxed"}));
  EXPECT_DOUBLE_EQ(specs[0].params["tolerance"].get<double>(), 1e-4);
  EXPECT_EQ(specs[1].weight, 1.0);
  EXPECT_EQ(specs[1].params["mode"], "lenient");
  EXPECT_NO_THROW(RewardSet{specs});
}

TEST(RewardConfig, ErrorsNameFileLineColumnAndKey) {
  const auto path = write_temp("rewards:\n  - name: format\n    wieght: 2\n");
  const auto message = error_of([&] { load_reward_specs(path); });
  unlink(path.c_str());
  EXPECT_EQ(message, path + ":3:5: 'rewards[0].wieght' unknown key; the closest valid key is 'rewards[].weight'");
  const auto weight = write_temp("rewards:\n  - name: format\n    weight: heavy\n");
  EXPECT_EQ(error_of([&] { load_reward_specs(weight); }),
            weight + ":3:13: 'rewards[0].weight' expects a number, got 'heavy'");
  unlink(weight.c_str());
  const auto missing = write_temp("reward:\n  - name: format\n");
  EXPECT_EQ(error_of([&] { load_reward_specs(missing); }),
            missing + ":1:1: 'reward' unknown key; the closest valid key is 'rewards[]'");
  unlink(missing.c_str());
  const auto none = write_temp("policy: {path: x}\n");
  EXPECT_EQ(error_of([&] { load_reward_specs(none); }),
            none + ": 'rewards' must list at least one reward {name, weight, params}");
  unlink(none.c_str());
}

TEST(RewardConfig, UnknownRewardIsTheSectionsOwnCheck) {
  const auto path = write_temp("rewards:\n  - name: formatt\n");
  const auto message = error_of([&] { load_reward_specs(path); });
  unlink(path.c_str());
  EXPECT_EQ(message.rfind(path + ": 'rewards[0]': unknown reward 'formatt' (did you mean 'format'?)", 0), 0u) << message;
}

TEST(RewardSet, CorrectnessIndexIsTheFirstVerifierElseTheFirstReward) {
  EXPECT_EQ(RewardSet({{"format", 0.2, {{"mode", "lenient"}}}, {"countdown", 1.0, {}}}).correctness_index(), 1u);
  EXPECT_EQ(RewardSet({{"math_accuracy", 1.0, {}}, {"format", 0.2, {{"mode", "lenient"}}}}).correctness_index(), 0u);
  EXPECT_EQ(RewardSet({{"format", 1.0, {{"mode", "lenient"}}}}).correctness_index(), 0u);
}

TEST(RewardSet, AnAliasLetsOneRewardServeTwiceAndKeepsItsRole) {
  // Two math_accuracy entries under their own names; the first keeps the correctness role.
  const RewardSet set({{"format", 0.2, {{"mode", "lenient"}}, "shape"},
                       {"math_accuracy", 1.0, {}, "strict"},
                       {"math_accuracy", 0.5, {{"answer_form", "equivalent"}}, "lenient"}});
  EXPECT_EQ(set.names(), (std::vector<std::string>{"shape", "strict", "lenient"}));
  EXPECT_EQ(set.kinds(), (std::vector<std::string>{"format", "math_accuracy", "math_accuracy"}));
  EXPECT_EQ(set.correctness_index(), 1u);
  Sample s;
  s.completion = "<think>x</think><answer>\\boxed{2^{4}}</answer>";
  s.answer = "16";
  const auto scores = set.score({s});
  EXPECT_EQ(scores.names, set.names());
  EXPECT_EQ(scores.values[0][1], 0.0);  // an un-carried power is not a value
  EXPECT_EQ(scores.values[0][2], 1.0);

  EXPECT_NE(error_of([] { RewardSet({{"math_accuracy", 1.0, {}}, {"math_accuracy", 1.0, {}}}); })
                .find("reward 'math_accuracy' is listed twice (give one an alias)"),
            std::string::npos);
  const auto path = write_temp("rewards:\n  - name: math_accuracy\n  - name: format\n    alias: math_accuracy\n");
  const auto message = error_of([&] { load_reward_specs(path); });
  unlink(path.c_str());
  EXPECT_NE(message.find("'rewards[1]': 'math_accuracy' is already the name of rewards[0]; give one of them a "
                         "different `alias`"),
            std::string::npos)
      << message;
}

}  // namespace
}  // namespace grpo::rewards
