// Loading a run for the report; see run_data.h.
#include "report/run_data.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/error.h"

namespace grpo::report {
namespace {

// Completions from up to `options.sample_steps` steps spread evenly over [first, last]: each
// window contributes its first step that has samples, and the last step is always asked for,
// so the browser shows how completions changed over the run, not only its end.
std::vector<SampleRecord> spread_samples(RunStoreReader& reader, int64_t first, int64_t last,
                                         const ReportOptions& options) {
  std::vector<SampleRecord> out;
  std::set<int64_t> taken;
  auto take_first_step = [&](std::vector<SampleRecord> found) {
    if (found.empty() || taken.count(found.front().step)) return;
    const int64_t step = found.front().step;
    taken.insert(step);
    for (auto& s : found)
      if (s.step == step) out.push_back(std::move(s));
  };
  // 128-bit: a damaged database may hold any 64-bit steps, whose span overflows int64.
  const __int128 span = static_cast<__int128>(last) - first + 1;
  const __int128 windows = std::max<__int128>(1, std::min<__int128>(options.sample_steps - 1, span));
  for (__int128 w = 0; w < windows; ++w) {
    const auto lo = static_cast<int64_t>(first + span * w / windows);
    const auto hi = static_cast<int64_t>(first + span * (w + 1) / windows - 1);
    take_first_step(reader.samples(lo, hi, options.max_samples));
  }
  take_first_step(reader.samples(last, last, options.max_samples));
  std::stable_sort(out.begin(), out.end(), [](const SampleRecord& a, const SampleRecord& b) { return a.step < b.step; });
  return out;
}

}  // namespace

std::string run_database_of(const std::string& run_dir) {
  const std::string db = run_dir + "/run.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec))
    throw Error(SourceLocation{run_dir, 0, 0}, "no run.db here, so not a run directory (`grpo runs DIR` lists runs)");
  return db;
}

RunData load_run(const std::string& db_path, const ReportOptions& options) {
  RunStoreReader reader(db_path);
  RunData run;
  run.db_path = db_path;
  run.name = reader.meta("run_name").value_or("run");
  run.status = reader.meta("status").value_or("unknown");
  run.stage = reader.meta("stage").value_or("");
  run.config_yaml = reader.meta("config").value_or("");
  run.last_step = reader.last_step();
  for (const auto& name : reader.metric_names()) run.metrics[name] = reader.metric_series(name);
  for (const auto& name : reader.histogram_names()) run.histograms[name] = reader.histogram_series(name);
  int64_t first = run.last_step.value_or(0);
  for (const auto& [name, points] : run.metrics)
    if (!points.empty()) first = std::min(first, points.front().step);
  if (run.last_step && options.sample_steps > 0) run.samples = spread_samples(reader, first, *run.last_step, options);
  run.events = reader.events(options.max_events);
  return run;
}

}  // namespace grpo::report
