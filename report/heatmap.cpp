// Router heat maps; see heatmap.h.
#include "report/heatmap.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/strings.h"
#include "report/html.h"

namespace grpo::report {
namespace {

// Where the trainers log router health: the learner's forward and the rollout's recorded routes.
const std::pair<const char*, const char*> kRouterAreas[] = {{"router/", "learner"}, {"router/rollout/", "rollout"}};

// The layer number of <area>layer<L>/<metric>, or -1 when `name` is not one.
int64_t router_layer(const std::string& name, const std::string& area, const std::string& metric) {
  const std::string prefix = area + "layer", suffix = "/" + metric;
  if (!starts_with(name, prefix) || !ends_with(name, suffix) || name.size() <= prefix.size() + suffix.size()) return -1;
  const auto layer = parse_decimal(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
  return layer && *layer < (1u << 20) ? static_cast<int64_t>(*layer) : -1;
}

nlohmann::json cell(double v) { return std::isfinite(v) ? nlohmann::json(std::round(v * 1e5) / 1e5) : nlohmann::json(nullptr); }

std::string render(const HeatMap& map, nlohmann::json& data) {
  const std::string id = "h" + std::to_string(data.size());
  nlohmann::json values = nlohmann::json::array();
  for (const auto& row : map.values) {
    nlohmann::json r = nlohmann::json::array();
    for (double v : row) r.push_back(cell(v));
    values.push_back(std::move(r));
  }
  data[id] = {{"title", map.title}, {"row_name", map.row_name}, {"rows", map.rows}, {"columns", map.columns},
              {"values", values}};
  return "<figure class='heatmap'><figcaption>" + escape_html(map.title) + "</figcaption><canvas data-heatmap='" + id +
         "'></canvas><div class='scale'></div></figure>";
}

}  // namespace

HeatMap bucket_rows(const std::string& title, const std::string& row_name, const std::vector<std::string>& rows,
                    const std::vector<std::vector<std::pair<int64_t, double>>>& series) {
  std::set<int64_t> step_set;
  for (const auto& s : series)
    for (const auto& point : s) step_set.insert(point.first);
  const std::vector<int64_t> steps(step_set.begin(), step_set.end());
  const size_t columns = std::min(steps.size(), kMaxColumns);
  HeatMap map{title, row_name, rows, {}, {}};
  // Step i of the sorted union falls in column i * columns / steps.size().
  std::map<int64_t, size_t> column_of;
  for (size_t i = 0; i < steps.size(); ++i) {
    const size_t c = i * columns / steps.size();
    column_of[steps[i]] = c;
    if (map.columns.size() == c) map.columns.push_back(steps[i]);
  }
  for (const auto& s : series) {
    std::vector<double> sum(columns, 0.0), count(columns, 0.0);
    for (const auto& [step, value] : s) {
      if (!std::isfinite(value)) continue;
      const size_t c = column_of.at(step);
      sum[c] += value;
      count[c] += 1;
    }
    std::vector<double> row(columns, NAN);
    for (size_t c = 0; c < columns; ++c)
      if (count[c] > 0) row[c] = sum[c] / count[c];
    map.values.push_back(std::move(row));
  }
  return map;
}

HeatMap layer_heatmap(const RunData& run, const std::string& area, const std::string& metric) {
  std::map<int64_t, const std::vector<MetricPoint>*> layers;
  for (const auto& entry : run.metrics) {
    const int64_t layer = router_layer(entry.first, area, metric);
    if (layer >= 0) layers[layer] = &entry.second;
  }
  std::vector<std::string> rows;
  std::vector<std::vector<std::pair<int64_t, double>>> series;
  for (const auto& [layer, points] : layers) {
    rows.push_back(std::to_string(layer));
    series.emplace_back();
    for (const auto& p : *points) series.back().emplace_back(p.step, p.value);
  }
  return bucket_rows(area + "layer*/" + metric, "layer", rows, series);
}

HeatMap expert_load_heatmap(const std::string& title, const HistogramSeries& histograms) {
  size_t experts = 0;
  for (const auto& entry : histograms) experts = std::max(experts, entry.second.size());
  std::vector<std::string> rows;
  std::vector<std::vector<std::pair<int64_t, double>>> series(experts);
  for (size_t e = 0; e < experts; ++e) rows.push_back(std::to_string(e));
  for (const auto& [step, loads] : histograms)
    for (size_t e = 0; e < loads.size(); ++e) series[e].emplace_back(step, loads[e]);
  return bucket_rows(title, "expert", rows, series);
}

std::string render_router_health(const RunData& run, nlohmann::json& heatmap_data) {
  std::ostringstream html;
  for (const auto& [area, side] : kRouterAreas) {
    for (const char* metric : {"load_cv", "dead_experts", "bias_norm"}) {
      const HeatMap map = layer_heatmap(run, area, metric);
      if (!map.rows.empty()) html << render(map, heatmap_data);
    }
    std::map<int64_t, std::string> load_histograms;  // by layer number, not by name ("layer10" < "layer2")
    for (const auto& entry : run.histograms) {
      const int64_t layer = router_layer(entry.first, area, "expert_load");
      if (layer >= 0) load_histograms[layer] = entry.first;
    }
    for (const auto& [layer, name] : load_histograms)
      html << render(expert_load_heatmap(std::string(side) + " layer " + std::to_string(layer) +
                                             ": share of tokens per expert",
                                         run.histograms.at(name)),
                     heatmap_data);
  }
  const std::string body = html.str();
  if (body.empty()) return "";
  return "<details open id='router'><summary>Router health (MoE)</summary><p class='note'>Coefficient of variation "
         "of the expert load (0 = balanced), experts with no token in a step, the aux-free bias norm, and per layer "
         "each expert's share of the tokens; hover a cell to read it.</p><div class='heatmaps'>" +
         body + "</div></details>";
}

}  // namespace grpo::report
