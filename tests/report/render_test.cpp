// The report and the comparison rendered from real run stores: the headline questions with
// what the run logged and what it did not, escaping of completions inside the page, router
// heat maps from histograms, and the bad inputs (no run.db, a newer schema, no metrics).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/filesystem.h"
#include "core/run_store.h"
#include "core/sqlite.h"
#include "report/report.h"

namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  // grpo…_<pid>: removed at exit by tests/common/scratch_cleanup.cpp.
  const auto dir = fs::temp_directory_path() / ("grpo_report_" + name + "_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  fs::create_directories(dir);
  return dir;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string small_run(const fs::path& dir, const std::string& config, const std::map<std::string, double>& extra) {
  const std::string db = (dir / "run.db").string();
  grpo::RunStoreWriter w(db);
  w.set_meta("run_name", dir.filename().string());
  w.set_meta("status", "finished");
  w.set_meta("config", config);
  for (int s = 1; s <= 4; ++s) {
    std::map<std::string, double> m = {{"reward/accuracy", 0.2 * s}, {"reward/format/mean", 0.5},
                                       {"actor/entropy", 1.0 / s},    {"time/step_s", 10},
                                       {"time/rollout_s", 6},         {"time/learner_s", 3}};
    m.insert(extra.begin(), extra.end());
    w.log_metrics(s, m);
  }
  w.log_metrics(0, {{"eval/pass@1", 0.1}});
  w.log_metrics(4, {{"eval/pass@1", 0.4}});
  w.flush();
  return db;
}

}  // namespace

TEST(Report, HeadlineDrawsWhatTheRunLoggedAndNamesWhatItDidNot) {
  const auto dir = scratch("headline");
  const auto db = small_run(dir, "rl:\n  group_size: 8\n", {});
  {
    grpo::RunStoreWriter w(db);
    grpo::SampleRecord s;
    s.step = 4;
    s.prompt = "What is 1<2?";
    s.completion = "Wait, </script><script>alert(1)</script> yes";
    s.extra = {{"truncated", true}};
    w.log_samples({s});
    w.flush();
  }
  const std::string html = grpo::report::render_report(db);
  for (const char* q : {"Is it learning?", "Is the &quot;aha&quot; happening?", "Is it healthy?", "Where does the time go?"})
    EXPECT_NE(html.find(q), std::string::npos) << q;
  EXPECT_NE(html.find("<figcaption>accuracy</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>held-out pass@k</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("class='eval'"), std::string::npos) << "eval points are marked";
  EXPECT_NE(html.find("not logged in this run: total reward (reward/total_mean); held-out maj@k (eval/maj@*)"), std::string::npos);
  EXPECT_NE(html.find("completion length (completion/length_mean, completion/length_p90)"), std::string::npos);
  // Time split: rollout 6 of 10 s, learner 3, the rest 1.
  EXPECT_NE(html.find("rollout 60%"), std::string::npos);
  EXPECT_NE(html.find("learner 30%"), std::string::npos);
  EXPECT_NE(html.find("other 10%"), std::string::npos);
  // The completion is escaped and highlighted; the only script end tags are the page's own three.
  EXPECT_NE(html.find("<mark>Wait</mark>, &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; yes"), std::string::npos);
  EXPECT_EQ(count(html, "</script>"), 3u);
  EXPECT_NE(html.find("data-truncated='1'"), std::string::npos);
  EXPECT_EQ(html.find("id='router'"), std::string::npos) << "a dense run has no router section";
}

TEST(Report, ChartsDrawTheSmoothedLineAtTheSlidersWeightAndGiveTheScriptTheirFrame) {
  const auto db = small_run(scratch("smoothing"), "", {});
  const std::string html = grpo::report::render_report(db);
  EXPECT_EQ(count(html, "id='smoothing-slider'"), 1u);
  EXPECT_NE(html.find("<input type='range' id='smoothing-slider' min='0' max='0.99' step='0.01' value='0.60'>"),
            std::string::npos);
  EXPECT_NE(html.find("<output id='smoothing-value' for='smoothing-slider'>0.60</output>"), std::string::npos);
  // reward/accuracy 0.2, 0.4, 0.6, 0.8 at steps 1-4; the debiased EMA with weight 0.6 is
  //   0.08/0.4 = 0.2, 0.208/0.64 = 0.325, 0.3648/0.784 = 0.46531, 0.53888/0.8704 = 0.61912,
  // at x = 46 + (step - 1) * 306/3 and y = 8 + (1 - (v - 0.2)/0.6) * 140: 148.0, 118.8, 86.1, 50.2.
  const std::string accuracy = html.substr(html.find("<figcaption>accuracy</figcaption>"));
  EXPECT_NE(accuracy.find("<polyline fill='none' class='raw' stroke='#1f6feb' "
                          "points='46.0,148.0 148.0,101.3 250.0,54.7 352.0,8.0 '/>"),
            std::string::npos)
      << accuracy.substr(0, 1200);
  EXPECT_NE(accuracy.find("<g class='line' data-series='0' stroke='#1f6feb'><polyline fill='none' "
                          "points='46.0,148.0 148.0,118.8 250.0,86.1 352.0,50.2 '/></g>"),
            std::string::npos)
      << accuracy.substr(0, 1200);
  // The frame the script redraws with, and the raw values it smooths (no precomputed smoothing).
  EXPECT_NE(html.find("\"bottom\":148.0,\"left\":46.0,\"right\":352.0,"), std::string::npos);
  EXPECT_NE(html.find("\"raw\":[0.2,0.4,0.6000000000000001,0.8]"), std::string::npos);
  EXPECT_EQ(html.find("\"smoothed\""), std::string::npos);
  // The comparison page has its slider too.
  const auto other = small_run(scratch("smoothing_b"), "", {});
  grpo::report::ReportOptions smoother;
  smoother.smoothing = 0.9;
  EXPECT_NE(grpo::report::render_comparison({db, other}, smoother).find("step='0.01' value='0.90'>"), std::string::npos);
}

TEST(Report, RouterHeatMapsFromPerLayerMetricsAndExpertLoadHistograms) {
  const auto dir = scratch("router");
  const auto db = small_run(dir, "", {{"router/layer0/load_cv", 0.4}, {"router/layer1/load_cv", 0.9}});
  {
    grpo::RunStoreWriter w(db);
    w.log_histogram(1, "router/layer1/expert_load", {0.5, 0.25, 0.125, 0.125});
    w.flush();
  }
  const std::string html = grpo::report::render_report(db);
  EXPECT_NE(html.find("id='router'"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>router/layer*/load_cv</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>learner layer 1: share of tokens per expert</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("\"rows\":[\"0\",\"1\",\"2\",\"3\"]"), std::string::npos);
  EXPECT_NE(html.find("\"values\":[[0.5],[0.25],[0.125],[0.125]]"), std::string::npos);
}

TEST(Report, EmptyRunStillRendersAndSaysSo) {
  const auto dir = scratch("empty");
  const std::string db = (dir / "run.db").string();
  { grpo::RunStoreWriter w(db); }
  const std::string html = grpo::report::render_report(db);
  EXPECT_NE(html.find("no metrics logged in this run yet"), std::string::npos);
  EXPECT_NE(html.find("no samples logged in this run"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(Report, DirectoryWithoutRunDbIsOneClearError) {
  const auto dir = scratch("no_db");
  try {
    grpo::report::run_database_of(dir.string());
    FAIL() << "expected an error";
  } catch (const grpo::Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.string() + ": no run.db here, so not a run directory (`grpo runs DIR` lists runs)");
  }
}

TEST(Report, DatabaseFromANewerSchemaIsOneClearError) {
  const auto dir = scratch("newer");
  const std::string db = small_run(dir, "", {});
  {
    grpo::sqlite::Connection conn(db, /*read_only=*/false);
    conn.exec("UPDATE meta SET value = '" + std::to_string(grpo::kRunStoreSchemaVersion + 1) +
              "' WHERE key = 'schema_version'");
  }
  try {
    grpo::report::render_report(db);
    FAIL() << "expected an error";
  } catch (const grpo::Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos);
    EXPECT_NE(what.find(db), std::string::npos) << what;
    EXPECT_NE(what.find("is newer than this grpo"), std::string::npos) << what;
  }
}

TEST(Comparison, OverlaysRunsShowsConfigDifferencesAndWhatEachRunHas) {
  const auto a = small_run(scratch("a"), "rl:\n  group_size: 8\n  kl_beta: 0.0\n", {{"only/in_a", 1}});
  const auto b = small_run(scratch("b"), "rl:\n  group_size: 16\n  kl_beta: 0.0\n", {{"only/in_b", 2}});
  const std::string html = grpo::report::render_comparison({a, b});
  const std::string name_a = fs::path(a).parent_path().filename().string();
  const std::string name_b = fs::path(b).parent_path().filename().string();
  EXPECT_NE(html.find("Comparison of 2 runs"), std::string::npos);
  EXPECT_NE(html.find("Config differences (1 keys)"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>rl.group_size</td><td>8</td><td>16</td></tr>"), std::string::npos);
  EXPECT_EQ(html.find("<td>rl.kl_beta</td>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>" + name_a + "</td><td>only/in_a</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>" + name_b + "</td><td>only/in_b</td></tr>"), std::string::npos);
  // The accuracy chart holds one series per run, in the runs' colors.
  EXPECT_NE(html.find("\"label\":\"" + name_a + " · reward/accuracy\""), std::string::npos);
  EXPECT_NE(html.find("\"label\":\"" + name_b + " · reward/accuracy\""), std::string::npos);
  EXPECT_THROW(grpo::report::render_comparison({a}), grpo::Error);
}
