// Everything the report shows about one run, read from its run.db in one pass: status and
// stored config, every metric series, the histograms (MoE router expert load), the sampled
// completions of a spread of steps, and the latest events. Reading happens here only; the
// other report files turn a RunData into HTML. It does not read run.log or checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/run_store.h"

namespace grpo::report {

struct ReportOptions {
  int max_samples = 64;    // completions shown per sampled step
  int max_events = 200;
  int sample_steps = 12;   // steps the sample browser offers, spread over the run (the last always)
  double smoothing = 0.6;  // EMA weight of the charts' smoothed line (series.h)
};

using HistogramSeries = std::vector<std::pair<int64_t, std::vector<double>>>;

struct RunData {
  std::string db_path;
  std::string name, status, stage;
  std::string config_yaml;  // the resolved config as stored in meta 'config'; "" when absent
  std::optional<int64_t> last_step;
  std::map<std::string, std::vector<MetricPoint>> metrics;
  std::map<std::string, HistogramSeries> histograms;
  std::vector<SampleRecord> samples;  // ordered by step, prompt, sample
  std::vector<EventRecord> events;    // newest first
};

// The run.db of `run_dir`; throws grpo::Error naming the directory when it has none.
std::string run_database_of(const std::string& run_dir);

// Reads the run store at `db_path`. A database written by a newer grpo fails in
// RunStoreReader with one line naming the file and both schema versions.
RunData load_run(const std::string& db_path, const ReportOptions& options);

}  // namespace grpo::report
