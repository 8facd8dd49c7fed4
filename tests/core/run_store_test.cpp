// The run store: what is written can be read back, readers work while a run writes,
// resume truncation, and a locked run directory is refused.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/filesystem.h"
#include "core/error.h"
#include "core/run_directory.h"
#include "core/run_store.h"
#include "core/sqlite.h"

namespace fs = std::filesystem;

namespace {
std::string temp_dir(const std::string& name) {
  const auto p = fs::temp_directory_path() / ("grpo_test_" + name + "_" + std::to_string(::getpid()));
  grpo::remove_tree(p);
  fs::create_directories(p);
  return p.string();
}
}  // namespace

TEST(RunStore, MetricsSamplesAndEventsReadBack) {
  const std::string db = temp_dir("store") + "/run.db";
  {
    grpo::RunStoreWriter w(db);
    w.set_meta("run_name", "demo");
    w.log_metrics(1, {{"reward/mean", 0.25}, {"loss", 1.5}});
    w.log_metrics(2, {{"reward/mean", 0.5}});
    grpo::SampleRecord s;
    s.step = 2;
    s.prompt = "2+2?";
    s.completion = "<answer>4</answer>";
    s.rewards = {{"math_accuracy", 1.0}};
    s.reward = 1.0;
    s.advantage = 0.7;
    w.log_samples({s});
    w.log_event("warn", "skip_step", "non-finite gradient", 2);
    w.flush();
  }
  grpo::RunStoreReader r(db);
  EXPECT_EQ(r.meta("run_name").value(), "demo");
  EXPECT_EQ(r.last_step().value(), 2);
  const auto latest = r.latest_metrics();
  EXPECT_DOUBLE_EQ(latest.at("reward/mean").value, 0.5);
  EXPECT_EQ(latest.at("loss").step, 1);
  const auto series = r.metric_series("reward/mean");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_DOUBLE_EQ(series[0].value, 0.25);
  const auto samples = r.samples(0, 10, 10);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].completion, "<answer>4</answer>");
  EXPECT_DOUBLE_EQ(samples[0].rewards["math_accuracy"].get<double>(), 1.0);
  const auto events = r.events(10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "skip_step");
}

TEST(RunStore, ReaderQueriesWhileWriterIsOpen) {
  const std::string db = temp_dir("concurrent") + "/run.db";
  grpo::RunStoreWriter w(db);
  for (int step = 1; step <= 50; ++step) {
    w.log_metric(step, "x", step);
    if (step % 10 == 0) {
      w.flush();
      grpo::RunStoreReader r(db);
      EXPECT_EQ(r.last_step().value(), step);
    }
  }
}

TEST(RunStore, TruncateAfterDropsLaterStepsForResume) {
  const std::string db = temp_dir("truncate") + "/run.db";
  grpo::RunStoreWriter w(db);
  for (int step = 1; step <= 5; ++step) w.log_metric(step, "x", step);
  w.truncate_after(3);
  w.log_metric(4, "x", 40);
  w.flush();
  grpo::RunStoreReader r(db);
  const auto s = r.metric_series("x");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_DOUBLE_EQ(s.back().value, 40);
}

TEST(RunStore, HistogramsReadBackByStepAndTruncateWithResume) {
  const std::string db = temp_dir("histograms") + "/run.db";
  {
    grpo::RunStoreWriter w(db);
    w.log_histogram(2, "router/learner/layer1/expert_load", {0.5, 0.25, 0.25, 0.0});
    w.log_histogram(1, "router/learner/layer1/expert_load", {0.1, 0.2, 0.3, 0.4});
    w.log_histogram(1, "router/learner/layer0/expert_load", {1.0 / 3.0, std::nan(""), 2.0 / 3.0});
    w.log_histogram(3, "router/learner/layer1/expert_load", {1.0});
    w.truncate_after(2);
    w.flush();
  }
  grpo::RunStoreReader r(db);
  EXPECT_EQ(r.histogram_names(),
            (std::vector<std::string>{"router/learner/layer0/expert_load", "router/learner/layer1/expert_load"}));
  const auto layer1 = r.histogram_series("router/learner/layer1/expert_load");
  ASSERT_EQ(layer1.size(), 2u);  // step 3 was truncated; steps come back in order
  EXPECT_EQ(layer1[0].first, 1);
  EXPECT_EQ(layer1[0].second, (std::vector<double>{0.1, 0.2, 0.3, 0.4}));
  EXPECT_EQ(layer1[1].first, 2);
  EXPECT_EQ(layer1[1].second, (std::vector<double>{0.5, 0.25, 0.25, 0.0}));
  const auto layer0 = r.histogram_series("router/learner/layer0/expert_load");
  ASSERT_EQ(layer0.size(), 1u);
  ASSERT_EQ(layer0[0].second.size(), 3u);
  EXPECT_EQ(layer0[0].second[0], 1.0 / 3.0);  // exact: JSON keeps a double's shortest round trip
  EXPECT_TRUE(std::isnan(layer0[0].second[1]));
  EXPECT_TRUE(r.histogram_series("absent").empty());
}

// A database from before histograms existed has no table: it reads as having none.
TEST(RunStore, DatabaseWithoutHistogramTableReadsAsEmpty) {
  const std::string db = temp_dir("old_schema") + "/run.db";
  {
    grpo::RunStoreWriter w(db);
    w.log_metric(1, "x", 1.0);
    w.flush();
  }
  {
    grpo::sqlite::Connection conn(db, /*read_only=*/false);
    conn.exec("DROP TABLE histograms");
  }
  grpo::RunStoreReader r(db);
  EXPECT_TRUE(r.histogram_names().empty());
  EXPECT_TRUE(r.histogram_series("router/layer0/expert_load").empty());
  EXPECT_EQ(r.metric_series("x").size(), 1u);
}

TEST(RunStore, DamagedHistogramFailsNamingTheFileHistogramAndStep) {
  const std::string db = temp_dir("damaged_histogram") + "/run.db";
  {
    grpo::RunStoreWriter w(db);
    w.log_histogram(4, "h", {1.0, 2.0});
    w.flush();
  }
  grpo::RunStoreReader r(db);
  for (const char* bad : {"'[1, '", "'{\"a\": 1}'", "'[1, \"two\"]'"}) {
    {
      grpo::sqlite::Connection conn(db, /*read_only=*/false);
      conn.exec(std::string("UPDATE histograms SET vals = ") + bad);
    }
    try {
      r.histogram_series("h");
      FAIL() << "a damaged histogram was read: " << bad;
    } catch (const grpo::Error& e) {
      EXPECT_NE(std::string(e.what()).find(db + ": histogram 'h' of step 4: "), std::string::npos) << e.what();
    }
  }
}

TEST(RunStore, NotARunDatabaseIsRefused) {
  const std::string path = temp_dir("notdb") + "/run.db";
  { std::ofstream(path) << "hello"; }
  EXPECT_THROW(grpo::RunStoreReader r(path), grpo::Error);
}

// A damaged row (found by run_store_fuzz): sample JSON that does not parse fails naming the file
// and step, never with a JSON exception; a blob of bad UTF-8 and a step stored as text read as
// SQLite converts them.
TEST(RunStore, DamagedSampleRowsFailNamingTheFileAndStep) {
  const std::string db = temp_dir("damaged") + "/run.db";
  {
    grpo::RunStoreWriter w(db);
    w.log_samples({grpo::SampleRecord{/*step=*/7, /*prompt_index=*/0, /*sample_index=*/0, "p", "c"}});
    w.flush();
  }
  {
    grpo::sqlite::Connection conn(db, /*read_only=*/false);
    conn.exec("UPDATE samples SET rewards = '{\"math\": 1', prompt = x'ff41'");
  }
  grpo::RunStoreReader r(db);
  try {
    r.samples(0, 10, 10);
    FAIL() << "a sample whose rewards are not JSON was read";
  } catch (const grpo::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(db + ": samples.rewards of step 7: bad JSON at byte offset"), std::string::npos) << what;
  }
  {
    grpo::sqlite::Connection conn(db, /*read_only=*/false);
    conn.exec("UPDATE samples SET rewards = '{}', step = '7'");
  }
  const auto samples = r.samples(0, 10, 10);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].step, 7);
  EXPECT_EQ(samples[0].prompt, "\xEF\xBF\xBD" "A");
}

TEST(RunDirectory, SecondOpenOfALiveRunIsRefused) {
  const std::string dir = temp_dir("lock");
  auto first = grpo::RunDirectory::open(dir + "/r", false);
  { grpo::RunStoreWriter w(first.db_path()); }
  try {
    grpo::RunDirectory::open(dir + "/r", true);
    FAIL() << "expected the lock to refuse";
  } catch (const grpo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another grpo process"), std::string::npos) << e.what();
  }
}

TEST(RunDirectory, NewRunRefusesAnExistingRunAndResumeNeedsOne) {
  const std::string dir = temp_dir("exists");
  {
    auto d = grpo::RunDirectory::open(dir + "/r", false);
    grpo::RunStoreWriter w(d.db_path());
  }
  EXPECT_THROW(grpo::RunDirectory::open(dir + "/r", false), grpo::Error);
  EXPECT_NO_THROW(grpo::RunDirectory::open(dir + "/r", true));
  EXPECT_THROW(grpo::RunDirectory::open(dir + "/other", true), grpo::Error);
}

TEST(RunDirectory, PathThroughAFileIsAClearError) {
  const std::string dir = temp_dir("file_parent");
  { std::ofstream(dir + "/plain") << "x"; }
  try {
    grpo::RunDirectory::open(dir + "/plain/run", false);
    FAIL();
  } catch (const grpo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create run directory"), std::string::npos) << e.what();
  }
}

TEST(RunDirectory, ProcFilesystemIsNotWritable) {
  EXPECT_THROW(grpo::RunDirectory::open("/proc/self/grpo_run", false), grpo::Error);
}
