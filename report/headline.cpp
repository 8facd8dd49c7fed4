// The four headline questions; see headline.h.
#include "report/headline.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/strings.h"
#include "report/html.h"
#include "report/metric_list.h"
#include "report/series.h"

namespace grpo::report {
namespace {

const char* const kStepTime = "time/step_s";

// Last value, min and max of the finite values; first finite value.
struct Summary {
  double first = NAN, last = NAN, min = INFINITY, max = -INFINITY;
};

Summary summarize(const std::vector<MetricPoint>& points) {
  Summary s;
  for (const auto& p : points) {
    if (!std::isfinite(p.value)) continue;
    if (std::isnan(s.first)) s.first = p.value;
    s.last = p.value;
    s.min = std::min(s.min, p.value);
    s.max = std::max(s.max, p.value);
  }
  return s;
}

double mean_of(const std::vector<MetricPoint>& points) {
  double sum = 0;
  size_t n = 0;
  for (const auto& p : points)
    if (std::isfinite(p.value)) sum += p.value, ++n;
  return n ? sum / static_cast<double>(n) : NAN;
}

std::string numbers_table(const std::vector<RunData>& runs, const std::vector<std::vector<std::string>>& metrics) {
  std::ostringstream html;
  const bool several = runs.size() > 1;
  html << "<table class='numbers'><tr>" << (several ? "<th>run</th>" : "")
       << "<th>metric</th><th>first</th><th>last</th><th>min</th><th>max</th></tr>";
  for (size_t r = 0; r < runs.size(); ++r)
    for (const auto& name : metrics[r]) {
      const Summary s = summarize(runs[r].metrics.at(name));
      html << "<tr>" << (several ? "<td>" + escape_html(runs[r].name) + "</td>" : "") << "<td>" << escape_html(name)
           << "</td><td>" << format_number(s.first) << "</td><td>" << format_number(s.last) << "</td><td>"
           << format_number(s.min) << "</td><td>" << format_number(s.max) << "</td></tr>";
    }
  html << "</table>";
  return html.str();
}

std::string time_split_bars(const std::vector<RunData>& runs) {
  std::ostringstream html;
  for (const auto& run : runs) {
    const auto split = time_split(run);
    if (split.empty()) continue;
    html << "<div class='split'><span class='split-label'>" << escape_html(runs.size() > 1 ? run.name : "step time")
         << "</span><div class='bar'>";
    for (size_t i = 0; i < split.size(); ++i) {
      const double percent = 100.0 * split[i].second;
      html << "<span style='width:" << strformat("%.2f", percent) << "%;background:" << palette_color(i) << "' title='"
           << escape_html(split[i].first) << " " << strformat("%.1f", percent) << "%'></span>";
    }
    html << "</div><span class='split-legend'>";
    for (size_t i = 0; i < split.size(); ++i)
      html << "<span><i style='background:" << palette_color(i) << "'></i>" << escape_html(split[i].first) << " "
           << strformat("%.0f", 100.0 * split[i].second) << "%</span>";
    html << "</span></div>";
  }
  return html.str();
}

std::string audit_table(const RunData& run) {
  std::vector<std::string> audit;
  for (const auto& entry : run.metrics)
    if (starts_with(entry.first, "audit/") && !entry.second.empty()) audit.push_back(entry.first);
  if (audit.empty()) return "";
  const auto warnings = std::count_if(run.events.begin(), run.events.end(), [](const EventRecord& e) { return e.kind == "audit"; });
  std::ostringstream html;
  html << "<h4>Reward-hacking audit</h4><p class='note'>Fraction of each step's completions "
          "(docs/rewards.md#gaming); "
       << warnings << " threshold warning(s) in the events.</p>"
       << "<table class='numbers'><tr><th>metric</th><th>last</th><th>max</th><th>step of max</th></tr>";
  for (const auto& name : audit) {
    const auto& series = run.metrics.at(name);
    const auto worst = std::max_element(series.begin(), series.end(),
                                        [](const MetricPoint& a, const MetricPoint& b) { return a.value < b.value; });
    html << "<tr><td>" << escape_html(name) << "</td><td>" << format_number(series.back().value) << "</td><td>"
         << format_number(worst->value) << "</td><td>" << worst->step << "</td></tr>";
  }
  html << "</table>";
  return html.str();
}

std::string render_question(const HeadlineQuestion& q, const std::vector<RunData>& runs, ChartBook& charts) {
  std::ostringstream figures;
  std::vector<std::string> missing;
  std::vector<std::vector<std::string>> shown(runs.size());
  for (const auto& chart : q.charts) {
    std::vector<std::vector<std::string>> names;
    bool any = false;
    for (size_t r = 0; r < runs.size(); ++r) {
      names.push_back(chart_metrics(chart, runs[r]));
      any = any || !names.back().empty();
      shown[r].insert(shown[r].end(), names.back().begin(), names.back().end());
    }
    if (any) figures << charts.render(overlay_chart(chart.title, runs, names));
    else missing.push_back(chart.title + " (" + join(chart.patterns, ", ") + ")");
  }
  std::ostringstream html;
  html << "<details open class='question' id='" << q.id << "'><summary>" << escape_html(q.question) << "</summary>";
  if (q.id == "time") html << time_split_bars(runs);
  html << "<div class='charts'>" << figures.str();
  if (std::any_of(shown.begin(), shown.end(), [](const auto& names) { return !names.empty(); }))
    html << numbers_table(runs, shown);
  html << "</div>";
  if (q.id == "healthy" && runs.size() == 1) html << audit_table(runs.front());
  if (!missing.empty()) {
    html << "<p class='missing'>not logged in " << (runs.size() > 1 ? "these runs" : "this run") << ": ";
    for (size_t i = 0; i < missing.size(); ++i) html << (i ? "; " : "") << escape_html(missing[i]);
    html << "</p>";
  }
  html << "</details>";
  return html.str();
}

}  // namespace

const std::vector<HeadlineQuestion>& headline_questions() {
  static const std::vector<HeadlineQuestion> questions = {
      {"learning",
       "Is it learning?",
       {{"total reward", {"reward/total_mean"}},
        {"accuracy", {"reward/accuracy"}},
        {"reward per function", {"reward/*/mean"}},
        {"held-out pass@k", {"eval/pass@*"}},
        {"held-out maj@k", {"eval/maj@*"}},
        {"held-out reward / loss", {"eval/reward_mean", "eval/loss"}},
        {"training loss", {"sft/loss", "distill/loss"}}}},
      {"aha",
       "Is the \"aha\" happening?",
       {{"completion length", {"completion/length_mean", "completion/length_p90"}},
        {"reflection phrases (share of completions)", {"aha/any_rate", "aha/*"}},
        {"format reward rate", {"reward/format_rate"}},
        {"held-out completion length", {"eval/mean_length"}}}},
      {"healthy",
       "Is it healthy?",
       {{"entropy", {"actor/entropy"}},
        {"KL", {"actor/ppo_kl", "actor/kl", "kl/*"}},
        {"clip fractions", {"actor/clip_frac_*"}},
        {"zero-variance groups", {"groups/zero_std_frac"}},
        {"grad norm", {"optim/grad_norm"}},
        {"skipped / clipped steps", {"optim/skipped_steps", "optim/clipped"}},
        {"rollout / learner mismatch", {"mismatch/*"}},
        {"truncated completions", {"completion/truncated_frac"}}}},
      {"time",
       "Where does the time go?",
       {{"seconds per step", {"time/*"}},
        {"tokens/s", {"perf/*tok*"}},
        {"memory (GiB)", {"memory/*"}}}},
  };
  return questions;
}

std::vector<std::string> chart_metrics(const HeadlineChart& chart, const RunData& run) {
  std::vector<std::string> out;
  for (const auto& pattern : chart.patterns)
    for (const auto& entry : run.metrics)
      if (glob_match(pattern, entry.first) && !entry.second.empty() &&
          std::find(out.begin(), out.end(), entry.first) == out.end())
        out.push_back(entry.first);
  return out;
}

std::vector<std::pair<std::string, double>> time_split(const RunData& run) {
  const auto step = run.metrics.find(kStepTime);
  if (step == run.metrics.end()) return {};
  const double step_mean = mean_of(step->second);
  if (!(step_mean > 0)) return {};
  std::vector<std::pair<std::string, double>> out;
  double rest = 1.0;
  for (const char* part : {"rollout", "reward", "teacher", "learner"}) {
    const auto it = run.metrics.find(std::string("time/") + part + "_s");
    if (it == run.metrics.end()) continue;
    const double part_mean = mean_of(it->second);
    if (!std::isfinite(part_mean)) continue;
    const double share = std::clamp(part_mean / step_mean, 0.0, rest);
    out.emplace_back(part, share);
    rest -= share;
  }
  out.emplace_back("other", rest);
  return out;
}

std::string render_headline(const std::vector<RunData>& runs, ChartBook& charts) {
  std::string html = "<section id='headline'>";
  for (const auto& q : headline_questions()) html += render_question(q, runs, charts);
  return html + "</section>";
}

}  // namespace grpo::report
