// The run store: one SQLite file (WAL) per run holding the resolved config, scalar metrics
// per step, histograms (a vector per step and name: one MoE layer's expert loads), sample
// completions with their rewards, evaluation results and an event log.
// RunStoreWriter queues records and commits them from a background thread in batched
// transactions, so a training step never waits on disk; flush() waits until everything
// queued so far is committed. A SIGKILL loses at most what was not yet committed, and the
// file stays consistent (SQLite's WAL). RunStoreReader queries it, also while a run writes.
// Text is stored as valid UTF-8: bytes that are not (model output cut mid-character) become
// U+FFFD on the way in (core/text/utf8.h), so writers keep exact tokens as ids in `extra`.
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace grpo {

constexpr int kRunStoreSchemaVersion = 1;

struct SampleRecord {
  int64_t step = 0;
  int64_t prompt_index = 0;
  int64_t sample_index = 0;
  std::string prompt;
  std::string completion;
  nlohmann::json rewards = nlohmann::json::object();  // reward name -> value
  double reward = 0.0;                                 // weighted total
  double advantage = 0.0;
  nlohmann::json extra = nlohmann::json::object();     // reasons, lengths, completion_ids, ...
};

struct MetricPoint {
  int64_t step;
  double value;
  double wall_time;  // seconds since the epoch
};

struct EventRecord {
  double wall_time;
  int64_t step;  // -1 when not tied to a step
  std::string level, kind, message;
};

class RunStoreWriter {
 public:
  // Creates the file (and schema) if needed. flush_interval_ms bounds how long a record waits.
  explicit RunStoreWriter(const std::string& path, int flush_interval_ms = 200);
  ~RunStoreWriter();  // flushes
  RunStoreWriter(const RunStoreWriter&) = delete;
  RunStoreWriter& operator=(const RunStoreWriter&) = delete;

  void set_meta(const std::string& key, const std::string& value);
  void log_metric(int64_t step, const std::string& name, double value);
  void log_metrics(int64_t step, const std::map<std::string, double>& metrics);
  // One vector per (step, name), stored as JSON array text; a NaN or infinity reads back as NaN.
  void log_histogram(int64_t step, const std::string& name, const std::vector<double>& values);
  void log_samples(const std::vector<SampleRecord>& samples);
  void log_event(const std::string& level, const std::string& kind, const std::string& message, int64_t step = -1);
  // Drops every record with step > `step` (used on resume, so a replayed step is not doubled).
  void truncate_after(int64_t step);
  // Blocks until everything queued before the call is committed; rethrows a writer failure.
  void flush();
  const std::string& path() const { return path_; }

 private:
  struct Pending;
  void writer_loop();
  struct Context;
  void enqueue(std::function<void(Context&)> op);

  std::string path_;
  int flush_interval_ms_;
  std::unique_ptr<Pending> pending_;
  std::thread thread_;
};

class RunStoreReader {
 public:
  explicit RunStoreReader(const std::string& path);
  ~RunStoreReader();
  std::optional<std::string> meta(const std::string& key);
  std::optional<int64_t> last_step();
  std::vector<std::string> metric_names();
  // The most recent value of every metric.
  std::map<std::string, MetricPoint> latest_metrics();
  std::vector<MetricPoint> metric_series(const std::string& name);
  // Histogram names, sorted; empty for databases written before histograms existed.
  std::vector<std::string> histogram_names();
  // Every logged vector of one histogram, ordered by step.
  std::vector<std::pair<int64_t, std::vector<double>>> histogram_series(const std::string& name);
  std::vector<SampleRecord> samples(int64_t step_from, int64_t step_to, int64_t limit);
  std::vector<EventRecord> events(int64_t limit);

 private:
  bool has_histograms();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grpo
