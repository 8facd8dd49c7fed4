// TensorBoard event files as TensorBoard itself reads them: a short `grpo rl` run with
// run.tensorboard: true writes them live, `grpo export tensorboard` writes them from run.db, and
// both are read back with the tensorboard package's EventAccumulator (tests/cli/tensorboard_dump.py
// in the venv of scripts/fetch-tensorboard): every scalar equals the run store's value as a
// float32 at the same steps, every tag is a metric, and the samples text holds the logged
// completions. Also: odd metric names kept as tags, a resumed run's restart marker, the
// histograms (MoE expert loads) live and exported, each with the store's min, max, count, sum and
// sum of squares and every stored value counted in its bucket, and the export's one-line
// errors. The readback tests skip, saying why, when the venv is absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/filesystem.h"
#include "core/run_store.h"
#include "core/tensorboard/run_events.h"
#include "tests/cli/cli_files.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::read_jsonl;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

fs::path scratch(const std::string& name) { return grpo::testing::cli_scratch("tensorboard", name); }

// scripts/fetch-tensorboard's venv python, or "" when it was not made or cannot import tensorboard.
std::string tensorboard_python() {
  const char* cache = std::getenv("GRPO_CACHE");
  const char* home = std::getenv("HOME");
  const fs::path root = cache && *cache ? fs::path(cache) : fs::path(home && *home ? home : "/tmp") / ".cache" / "grpo";
  const std::string python = (root / "tb-venv" / "bin" / "python").string();
  if (!fs::exists(python) || run_command(python + " -c 'import tensorboard'").exit_code != 0) return "";
  return python;
}

#define REQUIRE_TENSORBOARD(python)                                                                     \
  const std::string python = tensorboard_python();                                                     \
  if (python.empty())                                                                                   \
  GTEST_SKIP() << "no venv with the tensorboard package (~/.cache/grpo/tb-venv or $GRPO_CACHE/tb-venv); " \
                  "run scripts/fetch-tensorboard to read event files back"

nlohmann::json read_back(const std::string& python, const fs::path& dir) {
  const fs::path json = dir.string() + ".json";
  const auto r = run_command(python + " " + GRPO_SOURCE_DIR + "/tests/cli/tensorboard_dump.py " + dir.string() + " " +
                             json.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(json);
  return nlohmann::json::parse(in);
}

// The event files' scalars against run.db: the same tags, steps and float32 values; wall times
// equal (export) or within `wall_slack` seconds (live: stamped as the step is logged).
void expect_scalars_equal_store(const nlohmann::json& scalars, const fs::path& db, double wall_slack) {
  grpo::RunStoreReader reader(db.string());
  const auto names = reader.metric_names();
  std::set<std::string> tags;
  for (const auto& [tag, _] : scalars.items()) tags.insert(tag);
  EXPECT_EQ(tags, std::set<std::string>(names.begin(), names.end()));
  for (const auto& name : names) {
    if (!scalars.contains(name)) continue;
    const auto store = reader.metric_series(name);
    const auto& events = scalars.at(name);
    ASSERT_EQ(events.size(), store.size()) << name;
    for (size_t i = 0; i < store.size(); ++i) {
      EXPECT_EQ(events[i][0].get<int64_t>(), store[i].step) << name;
      EXPECT_EQ(events[i][2].get<double>(), static_cast<double>(static_cast<float>(store[i].value)))
          << name << " at step " << store[i].step;
      EXPECT_NEAR(events[i][1].get<double>(), store[i].wall_time, wall_slack) << name;
    }
  }
}

// The samples text: one value per step with logged samples, its rows the first four of the step.
void expect_samples_text(const nlohmann::json& texts, const fs::path& db) {
  ASSERT_TRUE(texts.contains("samples")) << texts.dump().substr(0, 300);
  grpo::RunStoreReader reader(db.string());
  for (const auto& event : texts.at("samples")) {
    const int64_t step = event[0].get<int64_t>();
    const auto logged = reader.samples(step, step, 100);
    const auto& rows = event[2];
    ASSERT_EQ(rows.size(), std::min<size_t>(logged.size(), grpo::tensorboard::kTextSamplesPerStep)) << step;
    for (size_t i = 0; i < rows.size(); ++i)
      EXPECT_EQ(rows[i].get<std::string>(), grpo::tensorboard::sample_markdown(logged[i])) << step;
  }
}

// The event files' histograms against run.db's: a histogram per stored row with a finite value,
// at the same step, whose statistics are the finite values' own and whose buckets, each a quarter
// of the balanced share 1/n wide (docs/observability.md), count each value in the bucket
// [limit[i-1], limit[i]) holding it, the first holding the smallest. `metric` gives the wall time of a step (the export's) or
// is "" (live: stamped when logged).
void expect_histograms_equal_store(const nlohmann::json& histograms, const fs::path& db, const std::string& metric) {
  grpo::RunStoreReader reader(db.string());
  std::map<int64_t, double> step_time;
  if (!metric.empty())
    for (const auto& p : reader.metric_series(metric)) step_time.emplace(p.step, p.wall_time);
  std::set<std::string> tags, expected_tags;
  for (const auto& [tag, _] : histograms.items()) tags.insert(tag);
  for (const auto& name : reader.histogram_names()) {
    std::vector<std::pair<int64_t, std::vector<double>>> rows;
    for (const auto& [step, values] : reader.histogram_series(name)) {
      std::vector<double> finite;
      std::copy_if(values.begin(), values.end(), std::back_inserter(finite), [](double v) { return std::isfinite(v); });
      if (!finite.empty()) rows.emplace_back(step, finite);
    }
    if (rows.empty()) continue;
    expected_tags.insert(name);
    if (!histograms.contains(name)) continue;
    const auto& events = histograms.at(name);
    ASSERT_EQ(events.size(), rows.size()) << name;
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& [step, values] = rows[i];
      const std::string where = name + " at step " + std::to_string(step);
      EXPECT_EQ(events[i][0].get<int64_t>(), step) << where;
      if (step_time.count(step)) {
        EXPECT_EQ(events[i][1].get<double>(), step_time.at(step)) << where;
      }
      const auto& h = events[i][2];
      double sum = 0, sum_squares = 0;
      for (const double v : values) sum += v, sum_squares += v * v;
      EXPECT_EQ(h.at("min").get<double>(), *std::min_element(values.begin(), values.end())) << where;
      EXPECT_EQ(h.at("max").get<double>(), *std::max_element(values.begin(), values.end())) << where;
      EXPECT_EQ(h.at("num").get<double>(), static_cast<double>(values.size())) << where;
      EXPECT_EQ(h.at("sum").get<double>(), sum) << where;
      EXPECT_EQ(h.at("sum_squares").get<double>(), sum_squares) << where;
      const auto limits = h.at("bucket_limit").get<std::vector<double>>();
      const auto counts = h.at("bucket").get<std::vector<double>>();
      ASSERT_EQ(limits.size(), counts.size()) << where;
      ASSERT_FALSE(limits.empty()) << where;
      const double width = 0.25 / static_cast<double>(values.size());
      for (size_t b = 1; b < limits.size(); ++b) EXPECT_NEAR(limits[b] - limits[b - 1], width, 1e-12) << where;
      EXPECT_LE(limits.front() - width, h.at("min").get<double>() + 1e-12) << where;
      EXPECT_GT(counts.front(), 0) << where;
      std::vector<double> recount(counts.size(), 0.0);
      for (const double v : values) {
        const size_t b = static_cast<size_t>(std::upper_bound(limits.begin(), limits.end(), v) - limits.begin());
        recount[std::min(b, recount.size() - 1)] += 1;
      }
      EXPECT_EQ(recount, counts) << where;
    }
  }
  EXPECT_EQ(tags, expected_tags);
}

}  // namespace

TEST(TensorBoard, LiveAndExportedEventFilesReadBackEqualToTheRunStore) {
  REQUIRE_TENSORBOARD(python);
  const fs::path root = scratch("run");
  const auto gen = run_command(kGrpo + " data generate --task countdown --n 8 --seed 3 --output " +
                               (root / "train.jsonl").string());
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  std::vector<std::string> corpus;
  for (const auto& r : read_jsonl(root / "train.jsonl")) corpus.push_back(r.at("prompt").get<std::string>());
  corpus.push_back("<think>Wait, let me check: 44 + 19</think><answer>44 + 19 + 35</answer>");
  grpo::testing::make_tiny_policy(root / "policy", corpus, 512);
  std::ofstream(root / "rl.yaml")
      << "run:\n  seed: 7\n  device: cpu\n  threads: 1\n  log_level: warn\n  tensorboard: true\n"
         "policy:\n  path: " + (root / "policy").string() + "\n  template: raw\n"
         "data:\n  train:\n    path: " + (root / "train.jsonl").string() + "\n    format: countdown\n"
         "rollout:\n  max_new_tokens: 8\n  max_batch_sequences: 8\n  temperature: 1.0\n"
         "rewards:\n  - name: countdown\n  - name: format\n    weight: 0.5\n    params: {mode: lenient}\n"
         "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 8\n  num_iterations: 1\n"
         "train:\n  steps: 3\n  save_every: 0\n  log_samples: 6\n";
  const auto rl = run_command(kGrpo + " rl " + (root / "rl.yaml").string() + " --run-dir " + (root / "run").string());
  ASSERT_EQ(rl.exit_code, 0) << rl.output;
  const fs::path db = root / "run" / "run.db";

  // The step metrics of this issue are in the store like any other, so TensorBoard shows them.
  grpo::RunStoreReader reader(db.string());
  const auto names = reader.metric_names();
  for (const char* m : {"aha/any_rate", "aha/wait_rate", "aha/let_me_check_rate", "aha/re_examine_rate",
                        "completion/length_p90", "reward/format_rate"})
    EXPECT_EQ(reader.metric_series(m).size(), 3u) << m;

  const auto live = read_back(python, root / "run" / "tensorboard");
  EXPECT_EQ(live.at("file_version").get<double>(), 2.0);  // "brain.Event:2"
  expect_scalars_equal_store(live.at("scalars"), db, 5.0);
  expect_samples_text(live.at("texts"), db);
  EXPECT_EQ(live.at("texts").at("samples").size(), 3u);

  const auto out = run_command(kGrpo + " export tensorboard " + (root / "run").string() + " --out " +
                               (root / "export").string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("samples text at 3 steps"), std::string::npos) << out.output;
  const auto exported = read_back(python, root / "export");
  expect_scalars_equal_store(exported.at("scalars"), db, 0.0);
  expect_samples_text(exported.at("texts"), db);
  for (size_t i = 0; i < 3; ++i)  // the same rows live and exported; only the wall times differ
    EXPECT_EQ(exported.at("texts").at("samples")[i][2], live.at("texts").at("samples")[i][2]);
  grpo::remove_tree(root);
}

TEST(TensorBoard, OddMetricNamesAndDoublesReadBackAsTheyWereStored) {
  REQUIRE_TENSORBOARD(python);
  const fs::path root = scratch("odd");
  const std::vector<std::string> odd = {"reward/accuracy", "weird name:(x)/α β", "a//b ", "%d\\n"};
  fs::create_directories(root / "run");
  {
    grpo::RunStoreWriter w((root / "run" / "run.db").string());
    for (int step = 1; step <= 3; ++step) {
      std::map<std::string, double> m;
      for (size_t i = 0; i < odd.size(); ++i) m[odd[i]] = 0.1 * step + 1e-9 * static_cast<double>(i);
      m["tiny"] = 1e-30 * step;
      m["large"] = 123456.789 * step;
      w.log_metrics(step, m);
    }
    w.log_metrics(5, {{"only_at_5", -2.5}});  // a tag with one point, at a step the others skip
    std::vector<grpo::SampleRecord> samples;
    for (int i = 0; i < 6; ++i) {
      grpo::SampleRecord s;
      s.step = 2;
      s.prompt_index = i / 3;
      s.sample_index = i % 3;
      s.prompt = "p" + std::to_string(i);
      s.completion = "c" + std::to_string(i) + " with ``` inside";
      s.rewards = {{"accuracy", i % 2}};
      s.reward = i % 2;
      samples.push_back(s);
    }
    w.log_samples(samples);
    w.flush();
  }
  const auto out = run_command(kGrpo + " export tensorboard " + (root / "run").string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const auto back = read_back(python, root / "run" / "tensorboard");
  expect_scalars_equal_store(back.at("scalars"), root / "run" / "run.db", 0.0);
  expect_samples_text(back.at("texts"), root / "run" / "run.db");
  ASSERT_EQ(back.at("texts").at("samples").size(), 1u);
  EXPECT_EQ(back.at("texts").at("samples")[0][2].size(), 4u);  // six logged, the first four shown
  grpo::remove_tree(root);
}

TEST(TensorBoard, ARestartMarkerMakesTensorBoardDropTheStepsAResumedRunReplays) {
  REQUIRE_TENSORBOARD(python);
  const fs::path root = scratch("resume");
  {
    grpo::tensorboard::RunEventWriter first(root / "tb");
    for (int step = 1; step <= 4; ++step) first.log_metrics(step, 100.0 + step, {{"loss", 1.0 * step}});
  }
  {
    // Resumed from the checkpoint of step 2 and stopped again before step 3 was logged: without
    // the marker TensorBoard would go on drawing the first attempt's steps 3 and 4.
    grpo::tensorboard::RunEventWriter second(root / "tb");
    second.log_restart(3, 200.0);
  }
  const auto back = read_back(python, root / "tb");
  const auto& loss = back.at("scalars").at("loss");
  ASSERT_EQ(loss.size(), 2u) << loss.dump();
  EXPECT_EQ(loss[0][0], 1);
  EXPECT_EQ(loss[1][0], 2);
  grpo::remove_tree(root);
}

TEST(TensorBoard, ExpertLoadHistogramsReadBackLiveAndExportedEqualToTheRunStore) {
  REQUIRE_TENSORBOARD(python);
  const fs::path root = scratch("histograms");
  // Two layers of four experts, the rollout's routes at step 2, dead experts, a NaN share, a row
  // with no finite share (left out), and step 4 with histograms but no metrics.
  const std::vector<std::tuple<int64_t, std::string, std::vector<double>>> rows = {
      {1, "router/layer0/expert_load", {0.25, 0.25, 0.25, 0.25}},
      {1, "router/layer1/expert_load", {0.4, 0.3, 0.2, 0.1}},
      {2, "router/layer0/expert_load", {0.7, 0.3, 0.0, 0.0}},
      {2, "router/layer1/expert_load", {0.1, NAN, 0.45, 0.45}},
      {2, "router/rollout/layer0/expert_load", {0.55, 0.15, 0.2, 0.1}},
      {3, "router/layer0/expert_load", {1.0, 0.0, 0.0, 0.0}},
      {3, "router/layer1/expert_load", {NAN, NAN}},
      {4, "router/layer0/expert_load", {0.125, 0.375, 0.25, 0.25}}};
  fs::create_directories(root / "run");
  {
    grpo::RunStoreWriter w((root / "run" / "run.db").string());
    grpo::tensorboard::RunEventWriter live(root / "live");
    const std::vector<size_t> written = {2, 3, 1, 1};  // histograms with a finite share, steps 1-4
    for (int64_t step = 1; step <= 4; ++step) {
      if (step <= 3) w.log_metrics(step, {{"router/layer0/load_cv", 0.1 * static_cast<double>(step)}});
      std::map<std::string, std::vector<double>> of_step;
      for (const auto& [at, name, values] : rows)
        if (at == step) of_step[name] = values;
      for (const auto& [name, values] : of_step) w.log_histogram(step, name, values);
      EXPECT_EQ(live.log_histograms(step, 100.0 + static_cast<double>(step), of_step), written[step - 1]);
    }
    w.flush();
  }
  const fs::path db = root / "run" / "run.db";
  const auto live = read_back(python, root / "live");
  expect_histograms_equal_store(live.at("histograms"), db, "");
  EXPECT_EQ(live.at("histograms").at("router/layer0/expert_load").size(), 4u);

  const auto out = run_command(kGrpo + " export tensorboard " + (root / "run").string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("3 scalars over 3 steps, 7 histograms over 4 steps"), std::string::npos) << out.output;
  const auto exported = read_back(python, root / "run" / "tensorboard");
  expect_histograms_equal_store(exported.at("histograms"), db, "router/layer0/load_cv");
  expect_scalars_equal_store(exported.at("scalars"), db, 0.0);
  // Hand-checked: step 2's layer-0 loads {0.7, 0.3, 0, 0} in buckets 1/16 wide centered on 0/16
  // (the two dead experts) to 11/16 (0.7 = 11.2/16); 0.3 = 4.8/16 is in the one centered on 5/16.
  const auto& step2 = exported.at("histograms").at("router/layer0/expert_load")[1][2];
  std::vector<double> expected(12, 0.0);
  expected[0] = 2, expected[5] = 1, expected[11] = 1;
  EXPECT_EQ(step2.at("bucket").get<std::vector<double>>(), expected);
  EXPECT_EQ(step2.at("bucket_limit").front().get<double>(), 0.5 / 16);
  EXPECT_EQ(step2.at("bucket_limit").back().get<double>(), 11.5 / 16);
  grpo::remove_tree(root);
}

TEST(TensorBoard, ExportWithoutARunDatabaseIsOneLineNamingIt) {
  const fs::path root = scratch("empty");
  const auto r = run_command(kGrpo + " export tensorboard " + root.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find((root / "run.db").string()), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << r.output;
  EXPECT_FALSE(fs::exists(root / "tensorboard"));
  grpo::remove_tree(root);
}

TEST(TensorBoard, ExportRefusesADirectoryThatAlreadyHoldsEventFiles) {
  const fs::path root = scratch("twice");
  {
    grpo::RunStoreWriter w((root / "run.db").string());
    w.log_metrics(1, {{"x", 1.0}});
    w.flush();
  }
  ASSERT_EQ(run_command(kGrpo + " export tensorboard " + root.string()).exit_code, 0);
  const auto again = run_command(kGrpo + " export tensorboard " + root.string());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find((root / "tensorboard").string() + ": already holds event files"), std::string::npos)
      << again.output;
  grpo::remove_tree(root);
}
