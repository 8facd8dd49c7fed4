// The HTML report of a run: one self-contained file (inline SVG charts, no scripts or network)
// with the run's config, a chart per metric grouped by area ("reward/", "actor/", ...), sample
// completions with their rewards, and the event log. Rendered from run.db alone, so it can be
// made during a run or long after. It does not compare runs.
#pragma once

#include <string>

namespace grpo {

struct ReportOptions {
  int max_samples = 48;  // completions shown (from the latest steps)
  int max_events = 200;
};

// Reads the run store at db_path and returns the HTML document.
std::string render_report(const std::string& db_path, const ReportOptions& options = {});

}  // namespace grpo
