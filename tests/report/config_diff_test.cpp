// Flattening stored configs and listing the keys that differ between runs (report/config_diff.h).
#include <gtest/gtest.h>

#include "core/error.h"
#include "report/config_diff.h"

using grpo::report::config_differences;
using grpo::report::flatten_config;

TEST(FlattenConfig, DotsMapsIndexesListsOfMapsAndKeepsPlainListsWhole) {
  const auto flat = flatten_config(
      "rl:\n  group_size: 8\n  advantage: \"grpo\"\nrewards:\n  - name: math_accuracy\n    weight: 1.0\n"
      "  - name: format\n    params:\n      mode: lenient\nrollout:\n  stop_strings: [\"</answer>\", x]\n"
      "  extra: []\n  none: ~\n",
      "run.db");
  const std::map<std::string, std::string> expected = {
      {"rl.group_size", "8"},         {"rl.advantage", "grpo"},
      {"rewards[0].name", "math_accuracy"}, {"rewards[0].weight", "1.0"},
      {"rewards[1].name", "format"},  {"rewards[1].params.mode", "lenient"},
      {"rollout.stop_strings", "[</answer>, x]"}, {"rollout.extra", "[]"},
      {"rollout.none", "~"}};
  EXPECT_EQ(flat, expected);
  EXPECT_TRUE(flatten_config("", "run.db").empty());
}

TEST(FlattenConfig, TextThatIsNotYamlNamesTheDatabaseAndLine) {
  try {
    flatten_config("a: 1\nb: [unclosed\n", "/runs/x/run.db");
    FAIL() << "expected an error";
  } catch (const grpo::Error& e) {
    EXPECT_EQ(e.where().file, "/runs/x/run.db");
    EXPECT_GT(e.where().line, 0);
    EXPECT_NE(std::string(e.what()).find("stored config"), std::string::npos) << e.what();
  }
}

TEST(ConfigDifferences, ListsOnlyKeysThatDifferWithAbsentValues) {
  const std::vector<std::map<std::string, std::string>> configs = {
      {{"rl.group_size", "8"}, {"run.seed", "1"}, {"rl.kl_beta", "0.0"}},
      {{"rl.group_size", "16"}, {"run.seed", "1"}, {"rl.kl_beta", "0.0"}},
      {{"rl.group_size", "8"}, {"run.seed", "1"}}};
  const auto d = config_differences(configs);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].key, "rl.group_size");
  EXPECT_EQ(d[0].values, (std::vector<std::optional<std::string>>{"8", "16", "8"}));
  EXPECT_EQ(d[1].key, "rl.kl_beta");
  EXPECT_EQ(d[1].values, (std::vector<std::optional<std::string>>{"0.0", "0.0", std::nullopt}));
  EXPECT_TRUE(config_differences({configs[0], configs[0]}).empty());
}
