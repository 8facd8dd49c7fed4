// Assembling the report and the comparison page; see report.h.
#include "report/report.h"

#include <set>
#include <sstream>

#include "core/error.h"
#include "report/config_diff.h"
#include "report/headline.h"
#include "report/heatmap.h"
#include "report/html.h"
#include "report/metric_list.h"
#include "report/page.h"
#include "report/samples.h"

namespace grpo::report {
namespace {

std::string status_line(const RunData& run) {
  return "status " + escape_html(run.status) + (run.stage.empty() ? "" : " · stage " + escape_html(run.stage)) +
         " · last step " + (run.last_step ? std::to_string(*run.last_step) : "-") + " · " + escape_html(run.db_path);
}

std::string events_section(const std::vector<EventRecord>& events) {
  std::ostringstream html;
  html << "<details id='events'><summary>Events (" << events.size() << ")</summary>";
  if (events.empty()) html << "<p class='missing'>no events</p>";
  else {
    html << "<table><tr><th>step</th><th>level</th><th>kind</th><th>message</th></tr>";
    for (const auto& e : events)
      html << "<tr><td>" << (e.step >= 0 ? std::to_string(e.step) : "") << "</td><td>" << escape_html(e.level)
           << "</td><td>" << escape_html(e.kind) << "</td><td>" << escape_html(e.message) << "</td></tr>";
    html << "</table>";
  }
  return html.str() + "</details>";
}

std::string config_differences_section(const std::vector<RunData>& runs) {
  std::vector<std::map<std::string, std::string>> configs;
  for (const auto& run : runs) configs.push_back(flatten_config(run.config_yaml, run.db_path));
  const auto differences = config_differences(configs);
  std::ostringstream html;
  html << "<details open id='config-diff'><summary>Config differences (" << differences.size() << " keys)</summary>";
  if (differences.empty()) html << "<p class='missing'>the stored configs are identical</p>";
  else {
    html << "<table><tr><th>key</th>";
    for (const auto& run : runs) html << "<th>" << escape_html(run.name) << "</th>";
    html << "</tr>";
    for (const auto& d : differences) {
      html << "<tr><td>" << escape_html(d.key) << "</td>";
      for (const auto& v : d.values) html << "<td>" << (v ? escape_html(*v) : "<i>absent</i>") << "</td>";
      html << "</tr>";
    }
    html << "</table>";
  }
  return html.str() + "</details>";
}

// For metric names not every run logged: which run has which.
std::string metric_presence_section(const std::vector<RunData>& runs) {
  std::set<std::string> common;
  for (const auto& entry : runs.front().metrics) common.insert(entry.first);
  for (const auto& run : runs) {
    std::set<std::string> kept;
    for (const auto& name : common)
      if (run.metrics.count(name)) kept.insert(name);
    common.swap(kept);
  }
  std::ostringstream html;
  html << "<details open id='metric-presence'><summary>Metrics by run</summary><p class='note'>" << common.size()
       << " metrics are logged by every run.</p><table><tr><th>run</th><th>metrics only some runs logged</th></tr>";
  for (const auto& run : runs) {
    std::string own;
    for (const auto& entry : run.metrics)
      if (!common.count(entry.first)) own += (own.empty() ? "" : ", ") + escape_html(entry.first);
    html << "<tr><td>" << escape_html(run.name) << "</td><td>" << (own.empty() ? "<i>none</i>" : own) << "</td></tr>";
  }
  return html.str() + "</table></details>";
}

std::string all_metrics_section(const std::vector<RunData>& runs, ChartBook& charts) {
  return "<details id='metrics'><summary>All metrics</summary>" + render_metric_list(runs, charts) + "</details>";
}

}  // namespace

std::string render_report(const std::string& db_path, const ReportOptions& options) {
  const std::vector<RunData> runs = {load_run(db_path, options)};
  const RunData& run = runs.front();
  ChartBook charts(options.smoothing);
  nlohmann::json heatmaps = nlohmann::json::object();
  std::ostringstream html;
  html << page_start(run.name + " — grpo.cpp report") << "<h1>" << escape_html(run.name) << "</h1><p class='status'>"
       << status_line(run) << "</p>" << smoothing_control(options.smoothing);
  if (run.metrics.empty()) html << "<p class='missing'>no metrics logged in this run yet</p>";
  html << render_headline(runs, charts) << render_router_health(run, heatmaps)
       << "<details open id='samples'><summary>Samples</summary>"
       << render_sample_browser(run.samples, reflection_phrases_of(run.config_yaml)) << "</details>"
       << all_metrics_section(runs, charts) << events_section(run.events) << "<details id='config'><summary>Config"
       << "</summary><pre>" << escape_html(run.config_yaml.empty() ? "(not recorded)" : run.config_yaml)
       << "</pre></details>";
  return html.str() + page_end(charts.hover_data(), heatmaps);
}

std::string render_comparison(const std::vector<std::string>& db_paths, const ReportOptions& options) {
  require(db_paths.size() >= 2, "a comparison needs at least two runs, got " + std::to_string(db_paths.size()));
  std::vector<RunData> runs;
  ReportOptions without_samples = options;
  without_samples.sample_steps = 0;
  std::map<std::string, int> name_count;
  for (const auto& path : db_paths) {
    runs.push_back(load_run(path, without_samples));
    ++name_count[runs.back().name];
  }
  // Legends name runs; two runs both called "quickstart" are told apart by their directories.
  for (auto& run : runs)
    if (name_count[run.name] > 1) run.name = run.db_path.substr(0, run.db_path.rfind('/'));
  ChartBook charts(options.smoothing);
  std::ostringstream html;
  html << page_start("comparison of " + std::to_string(runs.size()) + " runs — grpo.cpp report")
       << "<h1>Comparison of " << runs.size() << " runs</h1>" << smoothing_control(options.smoothing)
       << "<table><tr><th>run</th><th>status</th><th>stage</th><th>last step</th><th>database</th></tr>";
  for (size_t r = 0; r < runs.size(); ++r)
    html << "<tr><td><i class='swatch' style='background:" << palette_color(r) << "'></i> " << escape_html(runs[r].name)
         << "</td><td>" << escape_html(runs[r].status) << "</td><td>" << escape_html(runs[r].stage) << "</td><td>"
         << (runs[r].last_step ? std::to_string(*runs[r].last_step) : "-") << "</td><td>"
         << escape_html(runs[r].db_path) << "</td></tr>";
  html << "</table>" << render_headline(runs, charts) << config_differences_section(runs)
       << metric_presence_section(runs) << all_metrics_section(runs, charts);
  return html.str() + page_end(charts.hover_data(), nlohmann::json::object());
}

}  // namespace grpo::report
