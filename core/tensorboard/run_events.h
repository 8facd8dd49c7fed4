// How a run's records become TensorBoard events, the same whether written live during a run
// (run.tensorboard: true, rl/stage/run_context.cpp) or afterwards from run.db (tensorboard_export.h):
// every metric of a step as a scalar under its own name as the tag (kept as it is, whatever
// characters it holds; only bytes that are not UTF-8 become U+FFFD, since a tag is a protobuf
// string), and the first kTextSamplesPerStep samples of a step as one text value "samples", one
// markdown row per sample (prompt and sample index, total reward, advantage, each reward, then
// the prompt and the completion as code blocks), and the histograms of a step (MoE expert loads)
// as histogram values under their own names, bucketed as histogram.h says. Not here: the file
// format (event_writer.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/run_store.h"
#include "core/tensorboard/event_writer.h"

namespace grpo::tensorboard {

constexpr size_t kTextSamplesPerStep = 4;
constexpr const char* kSamplesTag = "samples";

// One sample as a markdown row of the text plugin's table.
std::string sample_markdown(const SampleRecord& sample);

class RunEventWriter {
 public:
  // A new event file in `dir` (EventFileWriter).
  explicit RunEventWriter(const std::filesystem::path& dir) : file_(dir) {}

  void log_scalars(int64_t step, double wall_time, const std::vector<std::pair<std::string, double>>& scalars);
  void log_metrics(int64_t step, double wall_time, const std::map<std::string, double>& metrics);
  // One event holding every histogram of `histograms` ({name: values}) that has a finite value;
  // nothing when none has. Returns how many it wrote.
  size_t log_histograms(int64_t step, double wall_time, const std::map<std::string, std::vector<double>>& histograms);
  // Writes the first kTextSamplesPerStep samples of each step in `samples` as that step's text.
  void log_samples(double wall_time, const std::vector<SampleRecord>& samples);
  // A resumed run restarts at `step` (session_start_event).
  void log_restart(int64_t step, double wall_time);
  void flush() { file_.flush(); }
  const std::filesystem::path& path() const { return file_.path(); }

 private:
  EventFileWriter file_;
};

}  // namespace grpo::tensorboard
