// The `grpo runs` table: durations, column layout within a width, and a summary read from a
// real run store (report/run_table.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/filesystem.h"
#include "core/run_store.h"
#include "report/run_table.h"

using grpo::report::format_duration;
using grpo::report::format_run_table;
using grpo::report::RunSummary;

namespace {

size_t columns(const std::string& line) {
  size_t n = 0;
  for (char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

TEST(FormatDuration, HoursMinutesSeconds) {
  EXPECT_EQ(format_duration(3725), "1h02m");
  EXPECT_EQ(format_duration(249.4), "4m09s");
  EXPECT_EQ(format_duration(12.4), "12s");
  EXPECT_EQ(format_duration(NAN), "-");
}

TEST(RunTable, AlignsColumnsAndShowsDashesForMissingValues) {
  RunSummary a;
  a.run = "runs/quickstart", a.status = "finished", a.last_step = 60, a.wall_seconds = 2465;
  a.tokens_per_second = 1234.4, a.eval_metric = "eval/pass@1", a.last_eval = 0.75, a.best_eval = 0.78125;
  RunSummary b;
  b.run = "runs/empty", b.status = "running";
  const std::string expected =
      "RUN              STATUS      STEPS     WALL    TOK/S  EVAL             LAST     BEST\n"
      "runs/quickstart  finished       60   41m05s     1234  pass@1           0.75   0.7812\n"
      "runs/empty       running         -        -        -  -                   -        -\n";
  EXPECT_EQ(format_run_table({a, b}), expected);
}

TEST(RunTable, CutsLongRunPathsAtTheStartToFitTheWidth) {
  RunSummary a;
  a.run = "/very/long/path/to/experiments/2026-12-06/r1-zero-qwen2.5-math-7b-\xC3\xA9t\xC3\xA9-ablation-kl-0.001";
  a.status = "finished";
  const std::string table = format_run_table({a}, 100);
  const auto second = table.substr(table.find('\n') + 1);
  EXPECT_EQ(second.rfind("\xE2\x80\xA6", 0), 0u) << table;
  EXPECT_NE(second.find("kl-0.001  finished"), std::string::npos) << table;
  for (size_t at = 0, end; (end = table.find('\n', at)) != std::string::npos; at = end + 1)
    EXPECT_LE(columns(table.substr(at, end - at)), 100u) << table;
}

TEST(SummarizeRun, ReadsStatusStepsThroughputAndBestEval) {
  const auto dir = std::filesystem::temp_directory_path() / ("grpo_run_table_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  std::filesystem::create_directories(dir);
  {
    grpo::RunStoreWriter w((dir / "run.db").string());
    w.set_meta("status", "finished");
    // Two steps of 10 s, rollouts of 4 s at 100 and 200 tokens/s: 400 + 800 tokens in 20 s.
    w.log_metrics(1, {{"time/step_s", 10}, {"time/rollout_s", 4}, {"perf/rollout_tok_per_s", 100}});
    w.log_metrics(2, {{"time/step_s", 10}, {"time/rollout_s", 4}, {"perf/rollout_tok_per_s", 200}});
    w.log_metrics(0, {{"eval/pass@1", 0.25}, {"eval/reward_mean", 9}});
    w.log_metrics(2, {{"eval/pass@1", 0.5}});
    w.log_metrics(1, {{"eval/pass@1", 0.625}});
    w.flush();
  }
  const auto s = grpo::report::summarize_run(dir.string());
  EXPECT_EQ(s.status, "finished");
  EXPECT_EQ(s.last_step, 2);
  EXPECT_DOUBLE_EQ(s.tokens_per_second, 60.0);
  EXPECT_EQ(s.eval_metric, "eval/pass@1");
  EXPECT_DOUBLE_EQ(s.last_eval, 0.5);
  EXPECT_DOUBLE_EQ(s.best_eval, 0.625);
  EXPECT_GE(s.wall_seconds, 10.0);  // time/step_s of the first step at least
  grpo::remove_tree(dir);
}
