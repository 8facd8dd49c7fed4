// TensorBoard's Event messages and the event file that holds them. An event file is a TFRecord
// file (tf_record.h) named events.out.tfevents.<unix seconds>.<host>, whose first record is an
// Event with file_version "brain.Event:2"; TensorBoard reads every such file in a directory.
// The messages, with field numbers from TensorBoard's tensorboard/compat/proto/{event,summary,
// tensor,tensor_shape}.proto:
//   Event: wall_time 1 (double), step 2 (int64), file_version 3, summary 5, session_log 7
//   Summary: value 1 (repeated Value); Value: tag 1, simple_value 2 (float), histo 5, metadata 9,
//   tensor 8; SummaryMetadata: plugin_data 1 {plugin_name 1}; TensorProto: dtype 1 (DT_STRING = 7),
//   tensor_shape 2 {dim 2 {size 1}}, string_val 8; SessionLog: status 1 (START = 1)
//   HistogramProto (histogram.proto): min 1, max 2, num 3, sum 4, sum_squares 5 (doubles),
//   bucket_limit 6, bucket 7 (packed repeated doubles)
// Scalars are written as simple_value (float32: a double metric loses precision beyond it), text
// as the text plugin's 1-D string tensor (one table row per string, markdown), histograms as
// histo (all doubles, so they read back exact). Not here: which metrics, samples and histograms
// a run writes (run_events.h), how values become buckets (histogram.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/tensorboard/histogram.h"

namespace grpo::tensorboard {

// Serialized Event messages.
std::string file_version_event(double wall_time);
// One Summary.Value per (tag, value), in the given order.
std::string scalars_event(int64_t step, double wall_time, const std::vector<std::pair<std::string, double>>& scalars);
// One Summary.Value with a HistogramProto per (tag, histogram), in the given order.
std::string histograms_event(int64_t step, double wall_time, const std::vector<std::pair<std::string, Histogram>>& histograms);
// A text-plugin value: `rows` as a string tensor of shape [rows.size()].
std::string text_event(int64_t step, double wall_time, const std::string& tag, const std::vector<std::string>& rows);
// SessionLog START at `step`: TensorBoard drops what earlier files hold for steps >= step, so a
// resumed run's replayed steps are not drawn twice.
std::string session_start_event(int64_t step, double wall_time);

class EventFileWriter {
 public:
  // Creates `dir` if needed and a new event file in it (a name not taken yet: a suffix .1, .2,
  // ... when one of this second exists), whose first record is the file_version event.
  // Throws grpo::Error naming the path when it cannot be written.
  explicit EventFileWriter(const std::filesystem::path& dir);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void write(const std::string& event);  // one serialized Event, as one record
  void flush();                          // so a TensorBoard reading the file sees it
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

}  // namespace grpo::tensorboard
