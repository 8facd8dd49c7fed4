// Charts of metrics across runs: the series of a chart built from the runs that logged each
// metric (one run: a color per metric; several: a color per run, metrics told apart by dash),
// and the full metric list below the headline, grouped by the area before the first '/'
// ("actor", "reward", ...), each group collapsible. A metric only some runs logged is drawn
// for those runs.
#pragma once

#include <string>
#include <vector>

#include "report/chart.h"
#include "report/run_data.h"

namespace grpo::report {

// A chart titled `title` of metric `names[r]` of each run r (an empty list: that run has none).
ChartSpec overlay_chart(const std::string& title, const std::vector<RunData>& runs,
                        const std::vector<std::vector<std::string>>& names);

// Every metric of every run, grouped by area; says so when no run logged any.
std::string render_metric_list(const std::vector<RunData>& runs, ChartBook& charts);

}  // namespace grpo::report
