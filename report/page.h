// The HTML document around the report's sections: head with the inline stylesheet, and at the
// end the chart and heat-map data (JSON in <script type="application/json">) and the inline
// script that makes the page interactive: hover read-outs on charts, heat maps painted on
// canvases, the sample browser's step switch and filters, and a visible banner if the script
// itself fails. No network, no external files; without the script the charts and samples still
// show (no hover, no filters).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace grpo::report {

// "<!doctype html>..." up to and including "<body>".
std::string page_start(const std::string& title);

// The data, the script and "</body></html>".
std::string page_end(const nlohmann::json& chart_data, const nlohmann::json& heatmap_data);

}  // namespace grpo::report
