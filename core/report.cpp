// HTML report rendering; see report.h.
#include "core/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/run_store.h"
#include "core/text/json_lossy.h"
#include "core/text/utf8.h"

namespace grpo {
namespace {

// HTML-escaped text; bytes that are not UTF-8 become U+FFFD, so the page stays valid for its
// declared charset whatever a database holds.
std::string escape(const std::string& raw) {
  const std::string s = to_valid_utf8(raw);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// One metric as an inline SVG polyline with min/max labels.
std::string svg_chart(const std::string& name, const std::vector<MetricPoint>& points) {
  const double w = 320, h = 140, pad = 28;
  double x0 = points.front().step, x1 = points.back().step, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& p : points)
    if (std::isfinite(p.value)) y0 = std::min(y0, p.value), y1 = std::max(y1, p.value);
  if (!std::isfinite(y0)) y0 = 0, y1 = 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  if (x1 == x0) x1 = x0 + 1;
  std::ostringstream s;
  s << "<figure><svg viewBox='0 0 " << w << " " << h << "' width='" << w << "' height='" << h << "'>";
  s << "<rect x='" << pad << "' y='4' width='" << w - pad - 4 << "' height='" << h - pad - 4
    << "' fill='#fafafa' stroke='#ddd'/>";
  s << "<polyline fill='none' stroke='#1f6feb' stroke-width='1.5' points='";
  for (const auto& p : points) {
    if (!std::isfinite(p.value)) continue;
    const double x = pad + (p.step - x0) / (x1 - x0) * (w - pad - 4);
    const double y = 4 + (1 - (p.value - y0) / (y1 - y0)) * (h - pad - 4);
    s << num(x) << "," << num(y) << " ";
  }
  s << "'/>";
  s << "<text x='2' y='12' font-size='9'>" << num(y1) << "</text>";
  s << "<text x='2' y='" << h - pad << "' font-size='9'>" << num(y0) << "</text>";
  s << "<text x='" << pad << "' y='" << h - 8 << "' font-size='9'>step " << num(x0) << "</text>";
  s << "<text x='" << w - 60 << "' y='" << h - 8 << "' font-size='9'>" << num(x1) << "</text>";
  s << "</svg><figcaption>" << escape(name) << " — last " << num(points.back().value) << "</figcaption></figure>";
  return s.str();
}

// The health panel: the reward-hacking audit (audit/* metrics, rewards/audit.h) as a table of
// latest and worst values, with the audit warnings counted, so a gamed run shows at the top.
std::string health_panel(RunStoreReader& reader, const std::vector<EventRecord>& events) {
  std::ostringstream s;
  s << "<h2>Health</h2>";
  std::vector<std::string> audit;
  for (const auto& m : reader.metric_names()) {
    if (m.rfind("audit/", 0) == 0) audit.push_back(m);
  }
  if (audit.empty()) return s.str() + "<p>no audit metrics recorded (GRPO runs log audit/* every step)</p>";
  const auto warnings = std::count_if(events.begin(), events.end(), [](const EventRecord& e) { return e.kind == "audit"; });
  s << "<p>Reward-hacking audit: fraction of each step's completions (docs/rewards.md#gaming); " << warnings
    << " threshold warning(s) in the events below.</p>";
  s << "<table><tr><th>metric</th><th>last</th><th>max</th><th>step of max</th></tr>";
  for (const auto& m : audit) {
    const auto series = reader.metric_series(m);
    if (series.empty()) continue;
    const auto worst = std::max_element(series.begin(), series.end(),
                                        [](const MetricPoint& a, const MetricPoint& b) { return a.value < b.value; });
    s << "<tr><td>" << escape(m) << "</td><td>" << num(series.back().value) << "</td><td>" << num(worst->value)
      << "</td><td>" << worst->step << "</td></tr>";
  }
  s << "</table>";
  return s.str();
}

}  // namespace

std::string render_report(const std::string& db_path, const ReportOptions& options) {
  RunStoreReader reader(db_path);
  const std::string name = reader.meta("run_name").value_or("run");
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset='utf-8'><title>" << escape(name) << " — grpo.cpp report</title>"
       << "<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
          "figure{display:inline-block;margin:6px}figcaption{font-size:12px;text-align:center}"
          "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:4px;vertical-align:top}"
          "pre{white-space:pre-wrap;max-width:720px;margin:0}h2{margin-top:28px}</style></head><body>";
  html << "<h1>" << escape(name) << "</h1>";
  const auto last = reader.last_step();
  html << "<p>status: " << escape(reader.meta("status").value_or("?")) << " · last step: "
       << (last ? std::to_string(*last) : "-") << " · database: " << escape(db_path) << "</p>";

  const auto events = reader.events(options.max_events);
  html << health_panel(reader, events);

  // Charts grouped by the metric's area (text before the first '/').
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& m : reader.metric_names()) {
    const auto slash = m.find('/');
    groups[slash == std::string::npos ? "other" : m.substr(0, slash)].push_back(m);
  }
  html << "<h2>Metrics</h2>";
  if (groups.empty()) html << "<p>no metrics recorded</p>";
  for (const auto& [area, names] : groups) {
    html << "<h3>" << escape(area) << "</h3>";
    for (const auto& m : names) {
      const auto series = reader.metric_series(m);
      if (!series.empty()) html << svg_chart(m, series);
    }
  }

  html << "<h2>Samples</h2>";
  const int64_t from = last ? std::max<int64_t>(0, *last - 2) : 0;
  const auto samples = reader.samples(from, last.value_or(0), options.max_samples);
  if (samples.empty()) html << "<p>no samples recorded</p>";
  else {
    html << "<table><tr><th>step</th><th>prompt</th><th>completion</th><th>rewards</th><th>advantage</th></tr>";
    for (const auto& s : samples)
      html << "<tr><td>" << s.step << "</td><td><pre>" << escape(s.prompt) << "</pre></td><td><pre>"
           << escape(s.completion) << "</pre></td><td><pre>" << escape(json_dump_lossy(s.rewards, 1)) << "\ntotal "
           << num(s.reward) << "</pre></td><td>" << num(s.advantage) << "</td></tr>";
    html << "</table>";
  }

  html << "<h2>Events</h2>";
  if (events.empty()) html << "<p>no events</p>";
  else {
    html << "<table><tr><th>step</th><th>level</th><th>kind</th><th>message</th></tr>";
    for (const auto& e : events)
      html << "<tr><td>" << (e.step >= 0 ? std::to_string(e.step) : "") << "</td><td>" << escape(e.level)
           << "</td><td>" << escape(e.kind) << "</td><td>" << escape(e.message) << "</td></tr>";
    html << "</table>";
  }

  html << "<h2>Config</h2><pre>" << escape(reader.meta("config").value_or("(not recorded)")) << "</pre>";
  html << "</body></html>\n";
  return html.str();
}

}  // namespace grpo
