// Line charts as inline SVG: each series drawn raw (faint) and EMA-smoothed (solid), eval series
// (sparse points) drawn with a marker per point and no smoothing (a series of one or two points
// gets markers too), axis labels at the extremes.
// The SVG draws the smoothed lines at the weight ChartBook is given, so the page reads right
// without its script. The page's script (page.h) works from the numbers ChartBook collects, keyed
// by the chart's id (the frame and each series' steps and raw values): it reads step, raw and
// smoothed value of every series at the cursor, and redraws every smoothed line when the
// smoothing slider moves. A chart does not choose its metrics or colors; the headline and metric
// sections do.
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
  // {chart id: {x0, x1, left, right, y0, y1, top, bottom, series: [{label, color, eval, steps, raw}]}}
  // for the page's script: steps x0..x1 span pixels left..right, values y0..y1 bottom..top.
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
