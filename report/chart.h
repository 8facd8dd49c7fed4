// Line charts as inline SVG: each series drawn raw (faint) and EMA-smoothed (solid), eval series
// (sparse points) drawn with a marker per point and no smoothing (a series of one or two points
// gets markers too), axis labels at the extremes.
// Hovering is done by the page's script (page.h) from the numbers ChartBook collects, keyed by
// the chart's id: it reads step, raw and smoothed value of every series at the cursor. A chart
// does not choose its metrics or colors; the headline and metric sections do.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/run_store.h"

namespace grpo::report {

struct ChartSeries {
  std::string label;  // legend and hover text
  std::string color;  // CSS color
  std::vector<MetricPoint> points;
  bool eval = false;  // sparse held-out points: markers, no smoothing
  bool dashed = false;
};

struct ChartSpec {
  std::string title;
  std::vector<ChartSeries> series;
};

// Builds the charts of one page and the hover data their SVG refers to.
class ChartBook {
 public:
  explicit ChartBook(double smoothing) : smoothing_(smoothing) {}
  // The chart as a <figure> (empty string when no series has a point).
  std::string render(const ChartSpec& spec);
  // {chart id: {geometry, series: [{label, steps, raw, smoothed}]}} for the page's script.
  const nlohmann::json& hover_data() const { return hover_; }

 private:
  double smoothing_;
  int next_id_ = 0;
  nlohmann::json hover_ = nlohmann::json::object();
};

// Whether a metric holds held-out evaluation results (drawn as eval series).
bool is_eval_metric(const std::string& name);

// The i-th color of the palette runs and series are told apart by.
const std::string& palette_color(size_t index);

}  // namespace grpo::report
