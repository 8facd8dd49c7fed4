// The `grpo` binary as a user sees it: help, version, config show/check exit codes and
// messages, and `grpo runs` on a directory with a run in it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/filesystem.h"
#include "tests/common/run_command.h"
#include "core/run_store.h"

namespace fs = std::filesystem;
using grpo::testing::run_command;

namespace {
const std::string kGrpo = GRPO_BIN;

std::string write_temp(const std::string& name, const std::string& text) {
  const auto dir = fs::temp_directory_path() / ("grpo_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST(Cli, VersionPrintsTheProjectVersion) {
  const auto r = run_command(kGrpo + " --version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, std::string("grpo ") + GRPO_VERSION + "\n");
}

TEST(Cli, HelpListsTheSubcommands) {
  const auto r = run_command(kGrpo + " --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("config"), std::string::npos);
  EXPECT_NE(r.output.find("runs"), std::string::npos);
}

TEST(Cli, ConfigCheckAcceptsEveryShippedConfig) {
  for (const auto& e : fs::directory_iterator(fs::path(GRPO_SOURCE_DIR) / "configs")) {
    if (e.path().extension() != ".yaml") continue;
    const auto r = run_command(kGrpo + " config check " + e.path().string());
    EXPECT_EQ(r.exit_code, 0) << e.path() << "\n" << r.output;
  }
}

TEST(Cli, ConfigCheckPrintsExactErrorsAndExitsOne) {
  const auto path = write_temp("bad.yaml", "run:\n  seed: x\n  nmae: y\n");
  const auto r = run_command(kGrpo + " config check " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, path + ":2:9: 'run.seed' expects an integer, got 'x'\n" + path +
                          ":3:3: 'run.nmae' unknown key; the closest valid key is 'run.name'\n");
}

TEST(Cli, ConfigShowAppliesOverrides) {
  const auto path = write_temp("ok.yaml", "run:\n  name: demo\n");
  const auto r = run_command(kGrpo + " config show " + path + " run.seed=17");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("name: \"demo\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("seed: 17"), std::string::npos) << r.output;
}

TEST(Cli, MissingConfigFileIsOneLineAndNonZero) {
  const auto r = run_command(kGrpo + " config show /nonexistent.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: /nonexistent.yaml: cannot open file (missing or unreadable)\n");
}

TEST(Cli, JsonlNumbersBeyondADoubleAreMalformedJsonNamingTheLine) {
  // nlohmann reports 1e999 as out_of_range, not parse_error: it must still be one clear error.
  const auto cfg = write_temp("reward_only.yaml", "rewards:\n  - name: math_accuracy\n");
  const auto input = write_temp("huge.jsonl", "{\"prompt\": \"p\", \"completion\": \"1\", \"answer\": \"1\"}\n"
                                              "{\"prompt\": \"p\", \"completion\": \"1\", \"answer\": 1e999}\n");
  for (const std::string cmd : {" reward --config " + cfg + " --input " + input + " --output " + input + ".out",
                                " reward check --config " + cfg + " --input " + input}) {
    const auto r = run_command(kGrpo + cmd);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(input + ":2"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("malformed JSON"), std::string::npos) << r.output;
  }
}

TEST(Cli, RunsPrintsATableOfEachRunsStatusStepsAndEval) {
  const auto dir = fs::temp_directory_path() / ("grpo_runs_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  fs::create_directories(dir / "a");
  {
    grpo::RunStoreWriter w((dir / "a" / "run.db").string());
    w.set_meta("run_name", "alpha");
    w.set_meta("status", "finished");
    w.log_metrics(3, {{"reward/mean", 0.75}, {"eval/pass@1", 0.5}});
    w.log_metrics(1, {{"eval/pass@1", 0.625}});
    w.flush();
  }
  const auto r = run_command(kGrpo + " runs " + dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("RUN"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  finished        3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  pass@1            0.5    0.625\n"), std::string::npos) << r.output;
}

TEST(Cli, ReportRendersMetricsSamplesAndEscapesText) {
  const auto dir = fs::temp_directory_path() / ("grpo_report_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  fs::create_directories(dir);
  {
    grpo::RunStoreWriter w((dir / "run.db").string());
    w.set_meta("run_name", "rep");
    for (int s = 1; s <= 5; ++s) w.log_metrics(s, {{"reward/mean", 0.1 * s}, {"actor/loss", 1.0 / s}});
    grpo::SampleRecord rec;
    rec.step = 5;
    rec.prompt = "1<2?";
    rec.completion = "<answer>yes</answer>";
    w.log_samples({rec});
    w.flush();
  }
  const auto r = run_command(kGrpo + " report " + dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(dir / "report.html");
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_NE(html.str().find("<summary>Is it learning?</summary>"), std::string::npos);
  EXPECT_NE(html.str().find("<figcaption>reward/mean</figcaption>"), std::string::npos);
  EXPECT_NE(html.str().find("&lt;answer&gt;yes&lt;/answer&gt;"), std::string::npos);
  EXPECT_EQ(html.str().find("<answer>"), std::string::npos) << "completions must be escaped";
}

TEST(Cli, ReportOfADirectoryWithoutARunIsOneLine) {
  const auto dir = fs::temp_directory_path() / ("grpo_report_none_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto r = run_command(kGrpo + " report " + dir.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: " + dir.string() + ": no run.db here, so not a run directory (`grpo runs DIR` lists runs)\n");
  grpo::remove_tree(dir);
}

TEST(Cli, ReportOfSeveralRunsWritesTheirComparison) {
  const auto dir = fs::temp_directory_path() / ("grpo_compare_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  for (const std::string run : {"a", "b"}) {
    fs::create_directories(dir / run);
    grpo::RunStoreWriter w((dir / run / "run.db").string());
    w.set_meta("run_name", run);
    w.set_meta("config", "rl:\n  group_size: " + std::string(run == "a" ? "4" : "8") + "\n");
    w.log_metrics(1, {{"reward/accuracy", run == "a" ? 0.25 : 0.5}});
    w.flush();
  }
  const auto out = dir / "compare.html";
  const auto r = run_command(kGrpo + " report " + (dir / "a").string() + " " + (dir / "b").string() + " -o " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "wrote " + out.string() + "\n");
  std::ifstream in(out);
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_NE(html.str().find("<tr><td>rl.group_size</td><td>4</td><td>8</td></tr>"), std::string::npos);
  grpo::remove_tree(dir);
}

TEST(Cli, BadGrpoConfigsFailBeforeAnyWorkWithExactErrors) {
  struct Case {
    std::string yaml, expected;
  };
  const std::vector<Case> cases = {
      {"rl:\n  group_size: 1\n", "'rl.group_size' must be at least 2 (group-relative advantages need a group), got 1"},
      {"rl:\n  group_size: 8\n  batch_size: 20\n", "'rl.batch_size' (20) must be divisible by 'rl.group_size' (8)"},
      {"rewards:\n  - name: math_acuracy\n", "unknown reward 'math_acuracy'"},
      {"rl:\n  loss_aggregation: dapoo\n", "'rl.loss_aggregation' is 'dapoo'"},
      {"rl:\n  advantage: grpoo\n", "'rl.advantage' is 'grpoo' (did you mean 'grpo'?)"},
      {"rl:\n  gruop_size: 8\n", "'rl.gruop_size' unknown key; the closest valid key is 'rl.group_size'"},
  };
  for (const auto& c : cases) {
    const auto path = write_temp("bad_rl.yaml", c.yaml);
    const auto r = run_command(kGrpo + " rl " + path + " --run-dir " + path + ".run");
    EXPECT_EQ(r.exit_code, 1) << c.yaml;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.yaml << "\n" << r.output;
    EXPECT_FALSE(fs::exists(path + ".run")) << "a bad config must fail before the run directory is made";
  }
}
