// The HTML document around the report's sections: head with the inline stylesheet, and at the
// end the chart and heat-map data (JSON in <script type="application/json">) and the inline
// script that makes the page interactive: hover read-outs on charts, the smoothing slider
// (every chart's EMA line redrawn live at the chosen weight, which the browser's localStorage
// keeps for the next report opened), heat maps painted on canvases, the sample browser's step
// switch and filters, and a visible banner if the script itself fails. No network, no external
// files; without the script the charts (smoothed at the page's weight) and samples still show
// (no hover, no slider, no filters).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace grpo::report {

// "<!doctype html>..." up to and including "<body>".
std::string page_start(const std::string& title);

// The smoothing slider (0 to 0.99, as TensorBoard's), starting at `weight`: the EMA weight the
// page's charts were drawn with (ChartBook). The page's script needs it once per page.
std::string smoothing_control(double weight);

// The data, the script and "</body></html>".
std::string page_end(const nlohmann::json& chart_data, const nlohmann::json& heatmap_data);

}  // namespace grpo::report
