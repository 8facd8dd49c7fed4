// Overlaid metric charts and the full metric list; see metric_list.h.
#include "report/metric_list.h"

#include <map>
#include <set>
#include <sstream>

#include "report/html.h"

namespace grpo::report {

ChartSpec overlay_chart(const std::string& title, const std::vector<RunData>& runs,
                        const std::vector<std::vector<std::string>>& names) {
  ChartSpec spec{title, {}};
  const bool several = runs.size() > 1;
  for (size_t r = 0; r < runs.size(); ++r) {
    for (size_t m = 0; m < names[r].size(); ++m) {
      const auto it = runs[r].metrics.find(names[r][m]);
      if (it == runs[r].metrics.end() || it->second.empty()) continue;
      ChartSeries s;
      s.label = several ? runs[r].name + " · " + names[r][m] : names[r][m];
      s.color = palette_color(several ? r : m);
      s.dashed = several && m % 2 == 1;
      s.eval = is_eval_metric(names[r][m]);
      s.points = it->second;
      spec.series.push_back(std::move(s));
    }
  }
  return spec;
}

std::string render_metric_list(const std::vector<RunData>& runs, ChartBook& charts) {
  std::map<std::string, std::set<std::string>> areas;
  for (const auto& run : runs)
    for (const auto& entry : run.metrics) {
      const auto slash = entry.first.find('/');
      areas[slash == std::string::npos ? "other" : entry.first.substr(0, slash)].insert(entry.first);
    }
  if (areas.empty()) return "<p class='missing'>no metrics logged in this run yet</p>";
  std::ostringstream html;
  for (const auto& [area, names] : areas) {
    html << "<details class='area'><summary>" << escape_html(area) << " <span class='count'>(" << names.size()
         << ")</span></summary><div class='charts'>";
    for (const auto& name : names) {
      std::vector<std::vector<std::string>> per_run;
      for (const auto& run : runs) per_run.push_back(run.metrics.count(name) ? std::vector<std::string>{name}
                                                                             : std::vector<std::string>{});
      html << charts.render(overlay_chart(name, runs, per_run));
    }
    html << "</div></details>";
  }
  return html.str();
}

}  // namespace grpo::report
