// Specification of the config system: defaults, typed loading, exact errors with
// file:line:column, unknown keys with the closest valid key, overrides, lists, round trip.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>

#include "core/config/config_io.h"
#include "core/error.h"
#include "core/strings.h"

namespace {

struct Reward {
  std::string name;
  double weight = 0;
  nlohmann::json params;
};
void describe(grpo::config::Fields& f, Reward& r) {
  f.field("name", r.name, "", "Reward name.");
  f.field("weight", r.weight, 1.0, "Weight.");
  f.field("params", r.params, nlohmann::json::object(), "Reward parameters.");
}

struct Algo {
  int64_t group_size = 0;
  double epsilon = 0;
  bool use_kl = false;
  std::string loss;
  std::vector<double> betas;
  std::vector<std::string> stops;
};
void describe(grpo::config::Fields& f, Algo& a) {
  f.field("group_size", a.group_size, 8, "Completions per prompt.");
  f.field("epsilon", a.epsilon, 0.2, "Clip range.");
  f.field("use_kl", a.use_kl, false, "KL in the loss.");
  f.choice("loss", a.loss, "dapo", {"grpo", "dapo", "dr_grpo"}, "Aggregation.");
  f.field("betas", a.betas, std::vector<double>{0.9, 0.95}, "Adam betas.");
  f.field("stops", a.stops, std::vector<std::string>{"</answer>"}, "Stop strings.");
}

struct Top {
  Algo rl;
  std::vector<Reward> rewards;
};
void describe(grpo::config::Fields& f, Top& t) {
  f.section("rl", t.rl, "Algorithm.");
  f.list("rewards", t.rewards, {Reward{"format", 0.5, nlohmann::json::object()}}, "Rewards.");
}

std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    grpo::config::load_string<Top>(yaml, "run.yaml", overrides);
  } catch (const grpo::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Config, EmptyDocumentGivesDeclaredDefaults) {
  auto t = grpo::config::load_string<Top>("", "run.yaml");
  EXPECT_EQ(t.rl.group_size, 8);
  EXPECT_DOUBLE_EQ(t.rl.epsilon, 0.2);
  EXPECT_EQ(t.rl.loss, "dapo");
  EXPECT_EQ(t.rl.betas, (std::vector<double>{0.9, 0.95}));
  ASSERT_EQ(t.rewards.size(), 1u);
  EXPECT_EQ(t.rewards[0].name, "format");
}

TEST(Config, ValuesFromYamlReplaceDefaults) {
  auto t = grpo::config::load_string<Top>(
      "rl:\n  group_size: 16\n  use_kl: true\n  loss: grpo\n  stops: [a, b]\nrewards:\n  - name: acc\n"
      "    params: {tolerance: 0.001, mode: strict}\n  - name: fmt\n",
      "run.yaml");
  EXPECT_EQ(t.rl.group_size, 16);
  EXPECT_TRUE(t.rl.use_kl);
  EXPECT_EQ(t.rl.loss, "grpo");
  EXPECT_EQ(t.rl.stops, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.rewards.size(), 2u);
  EXPECT_EQ(t.rewards[0].name, "acc");
  EXPECT_DOUBLE_EQ(t.rewards[0].params["tolerance"].get<double>(), 0.001);
  EXPECT_EQ(t.rewards[0].params["mode"].get<std::string>(), "strict");
  EXPECT_DOUBLE_EQ(t.rewards[1].weight, 1.0) << "a new list item takes the item's declared defaults";
}

TEST(Config, UnknownKeyNamesFileLineAndClosestValidKey) {
  EXPECT_EQ(error_of("rl:\n  grop_size: 4\n"),
            "run.yaml:2:3: 'rl.grop_size' unknown key; the closest valid key is 'rl.group_size'");
}

TEST(Config, MisspeltSectionSuggestsTheSection) {
  EXPECT_EQ(error_of("rll:\n  group_size: 4\n"), "run.yaml:1:1: 'rll' unknown key; the closest valid key is 'rl'");
}

namespace {

// What the loader must suggest, found by brute force: the first valid key (leaf keys and every
// section prefix, in sorted order) at the least edit distance; `tied` is set when another key is
// as close, so the test knows that ties were exercised.
std::string brute_force_closest(const std::string& dotted, bool& tied) {
  std::set<std::string> valid;
  for (const auto& k : grpo::config::all_keys([](grpo::config::Fields& f) {
         Top t;
         describe(f, t);
       })) {
    valid.insert(k);
    for (size_t dot = k.find('.'); dot != std::string::npos; dot = k.find('.', dot + 1)) valid.insert(k.substr(0, dot));
  }
  std::string best;
  size_t best_distance = SIZE_MAX;
  tied = false;
  for (const auto& k : valid) {
    const size_t d = grpo::edit_distance(dotted, k);
    if (d == best_distance) tied = true;
    if (d < best_distance) best_distance = d, best = k, tied = false;
  }
  return best;
}

}  // namespace

TEST(Config, SuggestedKeyIsTheBruteForceClosestTiesToTheFirstInSortedOrder) {
  std::mt19937 random(7);
  const std::string alphabet = "abdegiklnoprstuwz_";
  std::vector<std::string> unknown = {"rl.grop_size", "rl.los", "rl.bets", "rl.stop", "rl.epsilom", "rl.usekl", "rl.x",
                                      "rl.", "rewards", "rewardz", "r", "rlx", "zzzzzzzzzzzzzzzzzzzz"};
  for (int i = 0; i < 400; ++i) {
    std::string key(1 + random() % 14, ' ');
    for (char& c : key) c = alphabet[random() % alphabet.size()];
    unknown.push_back(i % 2 ? "rl." + key : key);
  }
  int ties = 0, checked = 0;
  for (const auto& dotted : unknown) {
    const bool in_rl = dotted.rfind("rl.", 0) == 0;
    const std::string key = in_rl ? dotted.substr(3) : dotted;
    if (key.empty() || key.find('.') != std::string::npos || dotted == "rl" || dotted == "rewards") continue;
    bool tied = false;
    const std::string expected = brute_force_closest(dotted, tied);
    if (expected == dotted) continue;  // a valid key, no suggestion
    const std::string yaml = in_rl ? "rl:\n  \"" + key + "\": 1\n" : "\"" + key + "\": 1\n";
    const std::string message = error_of(yaml);
    const std::string marker = "unknown key; the closest valid key is '";
    const size_t at = message.find(marker);
    ASSERT_NE(at, std::string::npos) << dotted << ": " << message;
    const size_t begin = at + marker.size();
    EXPECT_EQ(message.substr(begin, message.find('\'', begin) - begin), expected) << dotted;
    ties += tied;
    ++checked;
  }
  EXPECT_GT(checked, 300);
  EXPECT_GT(ties, 20) << "keys as close to two valid keys exercise the tie-breaking";
}

TEST(Config, WrongTypeNamesLineColumnAndExpectedType) {
  EXPECT_EQ(error_of("rl:\n  group_size: eight\n"), "run.yaml:2:15: 'rl.group_size' expects an integer, got 'eight'");
  EXPECT_EQ(error_of("rl:\n  epsilon: [1]\n"), "run.yaml:2:12: 'rl.epsilon' expects a number, got a list");
  EXPECT_EQ(error_of("rl:\n  loss: dapoo\n"),
            "run.yaml:2:9: 'rl.loss' expects one of grpo, dapo, dr_grpo, got 'dapoo'");
}

TEST(Config, EveryProblemIsReportedNotOnlyTheFirst) {
  const std::string e = error_of("rl:\n  group_size: x\n  epsilon: y\n");
  EXPECT_NE(e.find("'rl.group_size'"), std::string::npos);
  EXPECT_NE(e.find("'rl.epsilon'"), std::string::npos);
}

// Found by yaml_config_fuzz: a key that is a list or map made yaml-cpp throw its own exception.
TEST(Config, KeyThatIsNotAPlainKeyIsAnErrorNamingItsPosition) {
  EXPECT_EQ(error_of("rl:\n  ? [a, b]\n  : 1\n"), "run.yaml:2:5: 'rl' has a key that is a list, expected a plain key");
  EXPECT_EQ(error_of("rewards:\n  - name: r\n    params: {? {x: 1} : 2}\n"),
            "run.yaml:3:16: 'rewards[0].params' has a key that is a map, expected a plain key");
}

// Free-form map lines "lK: &lK [*lK-1, *lK-1]" for K in [first, last]: level K stands for 2^(K+1) leaves.
std::string doubling_levels(int first, int last) {
  std::string out;
  for (int level = first; level <= last; ++level)
    out += "      l" + std::to_string(level) + ": &l" + std::to_string(level) + " [*l" + std::to_string(level - 1) +
           ", *l" + std::to_string(level - 1) + "]\n";
  return out;
}

// Aliases in a free-form map repeat the node they name: 10 levels of doubling would be 2^10 leaves,
// 20 levels a million. The loader stops at 100000 values instead of allocating them all.
TEST(Config, AliasesExpandingBeyondTheBoundAreAnErrorNotAnAllocation) {
  std::string doubling = "rewards:\n  - name: r\n    params:\n      l0: &l0 [x, x]\n" + doubling_levels(1, 10);
  const Top small = grpo::config::load_string<Top>(doubling, "run.yaml");
  EXPECT_EQ(small.rewards.at(0).params["l10"][1][0][1][0][0][1][0][1][1][0][1], "x");
  doubling += doubling_levels(11, 30);
  EXPECT_EQ(error_of(doubling), "run.yaml:4:7: 'rewards[0].params' expands to more than 100000 values with the "
                                "document's other free-form maps (each use of a YAML alias repeats the node it names)");
}

// A list of sections whose items all name one free-form map of ~65000 values: each item alone
// is under the bound, so the bound holds for the whole document (300 such items in 4 KB took
// 96 s and 450 MB before).
TEST(Config, AliasesRepeatedAcrossListItemsShareOneBound) {
  const std::string doc = "rewards:\n  - name: a\n    params: &p\n      l0: &l0 [x, x]\n" + doubling_levels(1, 13);
  const auto params = grpo::config::load_string<Top>(doc, "run.yaml").rewards.at(0).params;
  EXPECT_EQ(params.size(), 14u);
  EXPECT_EQ(params["l13"][1][0][1][1][0][1][0][0][1][1][0][1][0][1], "x");
  // The alias is reported where the map it names begins.
  EXPECT_EQ(error_of(doc + "  - {name: b, params: *p}\n"),
            "run.yaml:3:13: 'rewards[1].params' expands to more than 100000 values with the document's other "
            "free-form maps (each use of a YAML alias repeats the node it names)");
}

TEST(Config, MalformedYamlNamesPosition) {
  const std::string e = error_of("rl: [1,\n");
  EXPECT_EQ(e.rfind("run.yaml:2:1: malformed YAML", 0), 0u) << e;
}

TEST(Config, OverridesUseDottedPathsAndIndices) {
  auto t = grpo::config::load_string<Top>("rewards:\n  - name: a\n", "run.yaml",
                                          {"rl.group_size=4", "rewards.0.weight=2.5", "rl.betas=[0.1, 0.2]"});
  EXPECT_EQ(t.rl.group_size, 4);
  EXPECT_DOUBLE_EQ(t.rewards[0].weight, 2.5);
  EXPECT_EQ(t.rl.betas, (std::vector<double>{0.1, 0.2}));
}

TEST(Config, BadOverrideIsBlamedOnTheCommandLine) {
  EXPECT_EQ(error_of("", {"rl.group_sise=4"}),
            "<command line>: 'rl.group_sise' unknown key; the closest valid key is 'rl.group_size' "
            "(from override 'rl.group_sise=4')");
  EXPECT_EQ(error_of("", {"rl.group_size=x"}),
            "<command line>: 'rl.group_size' expects an integer, got 'x' (from override 'rl.group_size=x')");
  EXPECT_NE(error_of("", {"rl.group_size"}).find("not of the form key=value"), std::string::npos);
  // An index too long for 64 bits is past the end like any other, not an uncaught std::out_of_range
  // (found by yaml_config_fuzz).
  EXPECT_EQ(error_of("rewards:\n  - name: a\n", {"rewards.100000000000000000000000.weight=2"}),
            "<command line>: override 'rewards.100000000000000000000000.weight=2': 'rewards' has 1 items");
}

TEST(Config, YamlOutputReadsBackToTheSameValues) {
  auto t = grpo::config::load_string<Top>("rl:\n  epsilon: 0.28\n  stops: ['x: y', '\"q\"']\n", "run.yaml");
  const std::string text = grpo::config::to_yaml(t);
  auto back = grpo::config::load_string<Top>(text, "resolved.yaml");
  EXPECT_DOUBLE_EQ(back.rl.epsilon, 0.28);
  EXPECT_EQ(back.rl.stops, t.rl.stops);
  EXPECT_EQ(grpo::config::to_yaml(back), text);
  EXPECT_NE(text.find("epsilon: 0.28\n"), std::string::npos) << text;
}

TEST(Config, DocsListEveryKeyWithTypeDefaultAndDescription) {
  const std::string md = grpo::config::docs_markdown(
      [](grpo::config::Fields& f) {
        Top t;
        describe(f, t);
      },
      "T", "intro");
  EXPECT_NE(md.find("| `rl.group_size` | int | `8` | Completions per prompt. |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `rewards[].weight` | float | `1` | Weight. |"), std::string::npos) << md;
  EXPECT_NE(md.find("one of: grpo, dapo, dr_grpo"), std::string::npos);
}

TEST(Config, MissingFileIsAnErrorNamingIt) {
  try {
    grpo::config::load_file<Top>("/nonexistent/x.yaml");
    FAIL();
  } catch (const grpo::Error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.yaml: cannot open file (missing or unreadable)");
  }
}
