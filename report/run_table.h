// The `grpo runs` table: one line per run with its status, steps, wall time, throughput and
// held-out result, formatted to fit a terminal width. summarize_run reads one run.db
// (read-only, so it works during a run); the formatting is pure. Not a report: no charts.
//   wall time  from the first to the last logged metric, plus the first step's time/step_s
//   tok/s      generated tokens per second of whole steps (GRPO: perf/rollout_tok_per_s x
//              time/rollout_s over time/step_s, summed over steps); SFT: mean perf/tokens_per_s
//   eval       eval/pass@1, else eval/accuracy, eval/reward_mean, eval/loss, else the first
//              eval/* metric; best is the lowest for a loss, the highest otherwise
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/run_store.h"

namespace grpo::report {

struct RunSummary {
  std::string run;  // as listed: the run directory
  std::string status;
  std::optional<int64_t> last_step;
  double wall_seconds = NAN;
  double tokens_per_second = NAN;
  std::string eval_metric;  // "" when the run logged no eval/* metric
  double last_eval = NAN, best_eval = NAN;
};

RunSummary summarize_run(const std::string& run_dir);

// "3h05m", "4m09s", "12s"; "-" for NaN or negative.
std::string format_duration(double seconds);

// The table with a header line; the run column shrinks (cut at its start, where paths share
// their prefix, marked "…") so that every line fits `width` columns.
std::string format_run_table(const std::vector<RunSummary>& runs, size_t width = 100);

}  // namespace grpo::report
