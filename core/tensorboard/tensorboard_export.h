// `grpo export tensorboard`: a finished (or running) run's run.db written as one TensorBoard
// event file: every metric point as a scalar at its step and wall time, the points of one step
// logged together as one event, each step's histograms (MoE expert loads) as one event at the
// step's time, and each step's first samples as text (run_events.h). Reads run.db read-only, so
// it works during a run. Not here: run.db's events table, the live writer (run.tensorboard,
// rl/stage/run_context.cpp).
#pragma once

#include <cstdint>
#include <filesystem>

namespace grpo::tensorboard {

struct ExportSummary {
  std::filesystem::path file;   // the event file written
  int64_t scalars = 0;          // metric points
  int64_t steps = 0;            // distinct steps with metrics
  int64_t text_steps = 0;       // steps with a samples text
  int64_t histograms = 0;       // histograms written (a name at a step; none without a finite value)
  int64_t histogram_steps = 0;  // distinct steps with histograms
};

// Throws grpo::Error with one line naming the path: no run_dir/run.db, a database that is not a
// run's or is from a newer schema, or an out_dir that already holds event files (a live writer's
// or an earlier export's: TensorBoard would draw both).
ExportSummary export_tensorboard(const std::filesystem::path& run_dir, const std::filesystem::path& out_dir);

}  // namespace grpo::tensorboard
