// SVG line charts with hover data; see chart.h.
#include "report/chart.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/strings.h"
#include "report/html.h"
#include "report/series.h"

namespace grpo::report {
namespace {

constexpr double kWidth = 360, kHeight = 170;
constexpr double kLeft = 46, kRight = 8, kTop = 8, kBottom = 22;
constexpr size_t kMaxPoints = 400;

struct Frame {
  double x0, x1, y0, y1;
  double x(double step) const { return kLeft + (step - x0) / (x1 - x0) * (kWidth - kLeft - kRight); }
  double y(double v) const { return kTop + (1 - (v - y0) / (y1 - y0)) * (kHeight - kTop - kBottom); }
};

Frame frame_of(const std::vector<std::vector<MetricPoint>>& all) {
  Frame f{INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (const auto& points : all)
    for (const auto& p : points) {
      f.x0 = std::min<double>(f.x0, p.step), f.x1 = std::max<double>(f.x1, p.step);
      if (std::isfinite(p.value)) f.y0 = std::min(f.y0, p.value), f.y1 = std::max(f.y1, p.value);
    }
  if (!std::isfinite(f.y0)) f.y0 = 0, f.y1 = 1;
  if (f.y1 == f.y0) f.y0 -= 0.5, f.y1 += 0.5;
  if (f.x1 == f.x0) f.x0 -= 0.5, f.x1 += 0.5;
  return f;
}

// Polyline point lists, broken at non-finite values so a NaN leaves a gap instead of a dive.
// `attributes` go into each polyline's tag as they are (each with a leading space).
std::string polylines(const Frame& f, const std::vector<MetricPoint>& points, const std::vector<double>& values,
                      const std::string& attributes) {
  std::string out, run;
  auto close = [&] {
    if (!run.empty()) out += "<polyline fill='none'" + attributes + " points='" + run + "'/>";
    run.clear();
  };
  for (size_t i = 0; i < points.size(); ++i) {
    if (!std::isfinite(values[i])) {
      close();
      continue;
    }
    run += strformat("%.1f,%.1f ", f.x(static_cast<double>(points[i].step)), f.y(values[i]));
  }
  close();
  return out;
}

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

bool is_eval_metric(const std::string& name) { return starts_with(name, "eval/"); }

const std::string& palette_color(size_t index) {
  static const std::vector<std::string> colors = {"#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700",
                                                  "#0a7ea4", "#cf4f8b", "#57606a"};
  return colors[index % colors.size()];
}

std::string ChartBook::render(const ChartSpec& spec) {
  std::vector<std::vector<MetricPoint>> thinned;
  for (const auto& s : spec.series) thinned.push_back(thin(s.points, kMaxPoints));
  if (std::all_of(thinned.begin(), thinned.end(), [](const auto& p) { return p.empty(); })) return "";
  const Frame f = frame_of(thinned);
  const std::string id = "c" + std::to_string(next_id_++);
  // The frame lets the page's script map steps and values to pixels as this file does, for the
  // cursor and for the smoothed lines it redraws when the smoothing slider moves.
  nlohmann::json hover = {{"x0", f.x0}, {"x1", f.x1}, {"left", kLeft}, {"right", kWidth - kRight},
                          {"y0", f.y0}, {"y1", f.y1}, {"top", kTop}, {"bottom", kHeight - kBottom},
                          {"series", nlohmann::json::array()}};
  std::ostringstream svg;
  svg << "<figure class='chart'><figcaption>" << escape_html(spec.title) << "</figcaption>"
      << "<svg data-chart='" << id << "' viewBox='0 0 " << kWidth << " " << kHeight << "' width='" << kWidth
      << "' height='" << kHeight << "'>"
      << "<rect class='plot' x='" << kLeft << "' y='" << kTop << "' width='" << kWidth - kLeft - kRight
      << "' height='" << kHeight - kTop - kBottom << "'/>";
  for (double v : {f.y1, (f.y0 + f.y1) / 2, f.y0})
    svg << "<text class='tick' x='" << kLeft - 4 << "' y='" << f.y(v) + 3 << "' text-anchor='end'>"
        << format_number(v) << "</text>";
  svg << "<text class='tick' x='" << kLeft << "' y='" << kHeight - 6 << "'>" << format_number(f.x0) << "</text>"
      << "<text class='tick' x='" << kWidth - kRight << "' y='" << kHeight - 6 << "' text-anchor='end'>"
      << format_number(f.x1) << "</text>";
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    const auto& points = thinned[i];
    std::vector<double> raw;
    for (const auto& p : points) raw.push_back(p.value);
    const std::vector<double> smooth = s.eval ? raw : ema(raw, smoothing_);
    const std::string dash = s.dashed ? " stroke-dasharray='4 3'" : "";
    if (!s.eval) svg << polylines(f, points, raw, " class='raw' stroke='" + s.color + "'" + dash);
    // The smoothed line is a group of its own, so the script can swap its polylines on a new weight.
    svg << "<g class='line' data-series='" << i << "' stroke='" << s.color << "'" << dash << ">"
        << polylines(f, points, smooth, "") << "</g>";
    // Eval series are sparse by nature; a series of a point or two draws no visible line.
    if (s.eval || points.size() <= 2)
      for (const auto& p : points)
        if (std::isfinite(p.value))
          svg << strformat("<circle class='eval' cx='%.1f' cy='%.1f' r='2.5' fill='", f.x(static_cast<double>(p.step)),
                           f.y(p.value))
              << s.color << "'/>";
    nlohmann::json steps = nlohmann::json::array(), raws = nlohmann::json::array();
    for (size_t k = 0; k < points.size(); ++k) {
      steps.push_back(points[k].step);
      raws.push_back(finite_or_null(raw[k]));
    }
    hover["series"].push_back({{"label", s.label}, {"color", s.color}, {"eval", s.eval}, {"steps", steps},
                               {"raw", raws}});
  }
  svg << "<line class='cursor' y1='" << kTop << "' y2='" << kHeight - kBottom << "'/></svg>";
  if (spec.series.size() > 1) {
    svg << "<div class='legend'>";
    for (const auto& s : spec.series)
      svg << "<span><i style='background:" << s.color << "'></i>" << escape_html(s.label) << "</span>";
    svg << "</div>";
  }
  svg << "</figure>";
  hover_[id] = std::move(hover);
  return svg.str();
}

}  // namespace grpo::report
