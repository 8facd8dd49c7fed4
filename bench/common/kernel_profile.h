// A Kineto trace of what one stretch of a benchmark ran on the device: every CUDA kernel and
// copy with its duration, saved as a Chrome trace (chrome://tracing, Perfetto) that
// bench/common/trace_summary.py folds into a table of time per kernel. Benchmarks profile one
// extra step after their timed repeats, so the trace never slows the numbers they report.
#pragma once

#include <memory>
#include <string>

namespace grpo::bench {

class KernelProfile {
 public:
  // Starts tracing CPU ops and CUDA activity of this process.
  KernelProfile();
  // Stops tracing (if save() was not called) without writing anything.
  ~KernelProfile();
  // Stops tracing and writes the trace to `path`.
  void save(const std::string& path);

 private:
  bool active_ = false;
};

}  // namespace grpo::bench
