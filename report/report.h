// The HTML report of one run or a comparison of several: one self-contained file (inline SVG
// and canvas, a small inline script, no network) rendered from run.db alone, so it can be made
// during a run or long after. One run: the headline panel (is it learning, is the "aha"
// happening, is it healthy, where does the time go), router health for MoE runs, the sample
// browser, every metric grouped by area, the events and the config. Several runs: the headline
// curves overlaid, the config keys that differ, which metrics each run has, and every metric
// overlaid; samples stay in each run's own report.
#pragma once

#include <string>
#include <vector>

#include "report/run_data.h"

namespace grpo::report {

// The report of the run store at `db_path`.
std::string render_report(const std::string& db_path, const ReportOptions& options = {});

// The comparison of the run stores at `db_paths` (two or more), in that order.
std::string render_comparison(const std::vector<std::string>& db_paths, const ReportOptions& options = {});

}  // namespace grpo::report
