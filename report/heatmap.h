// MoE router health as heat maps: per layer, the share of tokens each expert received over
// the steps (histograms router/layer<L>/expert_load: experts x steps), and across layers the
// per-layer metrics router/layer<L>/{load_cv, dead_experts, bias_norm} (layers x steps); the
// same for the rollout's routes (router/rollout/layer<L>/...). The
// matrices are built here (steps bucketed to at most kMaxColumns columns, each the mean of its
// steps); the page's script paints them on a canvas and reads cells on hover. Runs without
// router metrics get no section.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "report/run_data.h"

namespace grpo::report {

constexpr size_t kMaxColumns = 160;

struct HeatMap {
  std::string title, row_name;      // row_name: "layer" or "expert"
  std::vector<std::string> rows;    // row labels, top to bottom
  std::vector<int64_t> columns;     // first step of each column
  std::vector<std::vector<double>> values;  // [row][column]; NaN = no value
};

// Rows of (step, value) series on a shared, bucketed step axis.
HeatMap bucket_rows(const std::string& title, const std::string& row_name, const std::vector<std::string>& rows,
                    const std::vector<std::vector<std::pair<int64_t, double>>>& series);

// Layers x steps of <area>layer<L>/<metric> (area "router/" or "router/rollout/"), layers in
// numeric order; no rows when none logged.
HeatMap layer_heatmap(const RunData& run, const std::string& area, const std::string& metric);

// Experts x steps of one layer's expert_load histograms.
HeatMap expert_load_heatmap(const std::string& title, const HistogramSeries& histograms);

// The router section of `run`, or "" when it logged no router metric or histogram.
std::string render_router_health(const RunData& run, nlohmann::json& heatmap_data);

}  // namespace grpo::report
