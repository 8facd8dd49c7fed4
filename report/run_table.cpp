// Run summaries and their table; see run_table.h.
#include "report/run_table.h"

#include <algorithm>

#include "core/strings.h"
#include "core/text/utf8.h"
#include "report/html.h"

namespace grpo::report {
namespace {

struct Column {
  const char* header;
  size_t width;
};
// Every column but the run's; the run column takes what is left of the width.
const Column kColumns[] = {{"STATUS", 9}, {"STEPS", 6}, {"WALL", 7}, {"TOK/S", 7}, {"EVAL", 12}, {"LAST", 7}, {"BEST", 7}};
constexpr size_t kGap = 2, kMinRunWidth = 12;

size_t display_width(const std::string& utf8) {
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// The last `width` columns of `text`, starting with "…" when cut.
std::string keep_tail(const std::string& text, size_t width) {
  if (display_width(text) <= width) return text;
  size_t at = text.size(), kept = 0;
  while (at > 0 && kept < width - 1) {
    --at;
    if ((text[at] & 0xC0) != 0x80) ++kept;
  }
  return "\xE2\x80\xA6" + text.substr(at);
}

// `text` cut to `width` columns and padded; numbers are right-aligned.
std::string cell(const std::string& text, size_t width, bool right) {
  const std::string fitted = display_width(text) > width ? keep_tail(text, width) : text;
  const std::string pad(width - display_width(fitted), ' ');
  return right ? pad + fitted : fitted + pad;
}

std::string number_or_dash(double v) { return std::isnan(v) ? "-" : format_number(v); }

const std::vector<MetricPoint>* find_series(const std::map<std::string, std::vector<MetricPoint>>& metrics,
                                            const std::string& name) {
  const auto it = metrics.find(name);
  return it == metrics.end() || it->second.empty() ? nullptr : &it->second;
}

double throughput(const std::map<std::string, std::vector<MetricPoint>>& metrics) {
  const auto *rate = find_series(metrics, "perf/rollout_tok_per_s"), *rollout = find_series(metrics, "time/rollout_s"),
             *step = find_series(metrics, "time/step_s");
  if (rate && rollout && step) {
    std::map<int64_t, double> rollout_s;
    for (const auto& p : *rollout) rollout_s[p.step] = p.value;
    double tokens = 0, seconds = 0;
    for (const auto& p : *rate)
      if (rollout_s.count(p.step) && std::isfinite(p.value)) tokens += p.value * rollout_s[p.step];
    for (const auto& p : *step)
      if (std::isfinite(p.value)) seconds += p.value;
    return seconds > 0 ? tokens / seconds : NAN;
  }
  if (const auto* sft = find_series(metrics, "perf/tokens_per_s")) {
    double sum = 0;
    for (const auto& p : *sft) sum += p.value;
    return sum / static_cast<double>(sft->size());
  }
  return NAN;
}

}  // namespace

RunSummary summarize_run(const std::string& run_dir) {
  RunStoreReader reader(run_dir + "/run.db");
  RunSummary s;
  s.run = to_valid_utf8(run_dir);
  s.status = reader.meta("status").value_or("?");
  s.last_step = reader.last_step();
  std::map<std::string, std::vector<MetricPoint>> metrics;
  const auto names = reader.metric_names();
  std::string eval;
  for (const char* preferred : {"eval/pass@1", "eval/accuracy", "eval/reward_mean", "eval/loss"})
    if (eval.empty() && std::find(names.begin(), names.end(), preferred) != names.end()) eval = preferred;
  for (const auto& name : names)
    if (eval.empty() && starts_with(name, "eval/")) eval = name;
  for (const std::string& name : std::vector<std::string>{"perf/rollout_tok_per_s", "time/rollout_s", "time/step_s", "perf/tokens_per_s", eval})
    if (!name.empty() && std::find(names.begin(), names.end(), name) != names.end())
      metrics[name] = reader.metric_series(name);
  s.tokens_per_second = throughput(metrics);
  // Wall time: from the earliest point of the series loaded above (less the first step's own
  // duration) to the latest point of any metric.
  double end = -INFINITY, start = INFINITY;
  for (const auto& entry : reader.latest_metrics()) end = std::max(end, entry.second.wall_time);
  const auto* step = find_series(metrics, "time/step_s");
  if (step) start = step->front().wall_time - step->front().value;
  for (const auto& entry : metrics)
    for (const auto& p : entry.second) start = std::min(start, p.wall_time);
  if (std::isfinite(start) && std::isfinite(end)) s.wall_seconds = end - start;
  if (!eval.empty()) {
    const auto& points = metrics.at(eval);
    const bool lower_is_better = eval.find("loss") != std::string::npos;
    s.eval_metric = eval;
    s.last_eval = points.back().value;
    s.best_eval = points.front().value;
    for (const auto& p : points)
      if (std::isfinite(p.value) && (lower_is_better ? p.value < s.best_eval : p.value > s.best_eval)) s.best_eval = p.value;
  }
  return s;
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0)) return "-";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  if (total >= 3600) return strformat("%lldh%02lldm", static_cast<long long>(total / 3600), static_cast<long long>(total % 3600 / 60));
  if (total >= 60) return strformat("%lldm%02llds", static_cast<long long>(total / 60), static_cast<long long>(total % 60));
  return strformat("%llds", static_cast<long long>(total));
}

std::string format_run_table(const std::vector<RunSummary>& runs, size_t width) {
  size_t fixed = 0;
  for (const auto& c : kColumns) fixed += c.width + kGap;
  size_t run_width = std::string("RUN").size();
  for (const auto& r : runs) run_width = std::max(run_width, display_width(r.run));
  run_width = std::max(kMinRunWidth, std::min(run_width, width > fixed ? width - fixed : 0));
  auto line = [&](const std::string& run, const std::vector<std::string>& cells) {
    std::string out = cell(run, run_width, false);
    for (size_t i = 0; i < cells.size(); ++i)
      out += std::string(kGap, ' ') + cell(cells[i], kColumns[i].width, i >= 1 && i != 4);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::vector<std::string> headers;
  for (const auto& c : kColumns) headers.push_back(c.header);
  std::string table = line("RUN", headers);
  for (const auto& r : runs) {
    const std::string eval = starts_with(r.eval_metric, "eval/") ? r.eval_metric.substr(5) : r.eval_metric;
    table += line(r.run, {r.status, r.last_step ? std::to_string(*r.last_step) : "-", format_duration(r.wall_seconds),
                          std::isnan(r.tokens_per_second) ? "-" : strformat("%.0f", r.tokens_per_second),
                          eval.empty() ? "-" : eval, number_or_dash(r.last_eval), number_or_dash(r.best_eval)});
  }
  return table;
}

}  // namespace grpo::report
