// run.db to a TensorBoard event file; see tensorboard_export.h.
#include "core/tensorboard/tensorboard_export.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/run_store.h"
#include "core/tensorboard/run_events.h"

namespace grpo::tensorboard {
namespace {

namespace fs = std::filesystem;

struct Point {
  int64_t step;
  double wall_time;
  size_t tag;  // index into the metric names
  double value;
};

void refuse_existing_event_files(const fs::path& out_dir) {
  std::error_code ec;
  if (!fs::is_directory(out_dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(out_dir)) {
    if (entry.path().filename().string().find("tfevents") != std::string::npos)
      throw Error(SourceLocation{out_dir.string(), 0, 0},
                  "already holds event files (" + entry.path().filename().string() +
                      ", from run.tensorboard or an earlier export); pass --out with another directory or remove them");
  }
}

// Every metric point, ordered by step, then wall time, then name.
std::vector<Point> all_points(RunStoreReader& reader, const std::vector<std::string>& names) {
  std::vector<Point> points;
  for (size_t t = 0; t < names.size(); ++t)
    for (const auto& p : reader.metric_series(names[t])) points.push_back({p.step, p.wall_time, t, p.value});
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return std::tie(a.step, a.wall_time, a.tag) < std::tie(b.step, b.wall_time, b.tag);
  });
  return points;
}

// {step: {name: values}} of every histogram row in the store.
std::map<int64_t, std::map<std::string, std::vector<double>>> histograms_by_step(RunStoreReader& reader) {
  std::map<int64_t, std::map<std::string, std::vector<double>>> by_step;
  for (const auto& name : reader.histogram_names())
    for (auto& [step, values] : reader.histogram_series(name)) by_step[step][name] = std::move(values);
  return by_step;
}

}  // namespace

ExportSummary export_tensorboard(const fs::path& run_dir, const fs::path& out_dir) {
  const fs::path db = run_dir / "run.db";
  std::error_code ec;
  if (!fs::is_regular_file(db, ec))
    throw Error(SourceLocation{db.string(), 0, 0}, "no run database here: is " + run_dir.string() + " a run directory?");
  RunStoreReader reader(db.string());
  refuse_existing_event_files(out_dir);
  const auto names = reader.metric_names();
  const auto points = all_points(reader, names);

  RunEventWriter writer(out_dir);
  ExportSummary summary;
  summary.file = writer.path();
  std::map<int64_t, double> step_time;  // the first wall time of each step, for its samples text
  for (size_t begin = 0; begin < points.size();) {
    size_t end = begin;
    std::vector<std::pair<std::string, double>> scalars;
    while (end < points.size() && points[end].step == points[begin].step &&
           points[end].wall_time == points[begin].wall_time) {
      scalars.emplace_back(names[points[end].tag], points[end].value);
      ++end;
    }
    writer.log_scalars(points[begin].step, points[begin].wall_time, scalars);
    summary.scalars += static_cast<int64_t>(scalars.size());
    step_time.emplace(points[begin].step, points[begin].wall_time);
    begin = end;
  }
  summary.steps = static_cast<int64_t>(step_time.size());

  // Samples and histograms take their step's time; of a step without metrics (distillation's
  // data) the last metric's time, or now.
  const double fallback_time =
      points.empty() ? std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()
                     : points.back().wall_time;
  auto time_of = [&](int64_t step) {
    const auto found = step_time.find(step);
    return found == step_time.end() ? fallback_time : found->second;
  };
  for (const auto& [step, histograms] : histograms_by_step(reader)) {
    const size_t written = writer.log_histograms(step, time_of(step), histograms);
    summary.histograms += static_cast<int64_t>(written);
    summary.histogram_steps += written > 0 ? 1 : 0;
  }

  constexpr int64_t kLastStep = std::numeric_limits<int64_t>::max();
  for (int64_t from = std::numeric_limits<int64_t>::min();;) {
    const auto next = reader.samples(from, kLastStep, 1);
    if (next.empty()) break;
    const int64_t step = next.front().step;
    writer.log_samples(time_of(step), reader.samples(step, step, static_cast<int64_t>(kTextSamplesPerStep)));
    ++summary.text_steps;
    if (step == kLastStep) break;
    from = step + 1;
  }
  writer.flush();
  return summary;
}

}  // namespace grpo::tensorboard
