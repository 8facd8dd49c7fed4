// A run's metrics and samples as TensorBoard events; see run_events.h.
#include "core/tensorboard/run_events.h"

#include <algorithm>
#include <utility>

#include "core/strings.h"
#include "core/text/utf8.h"

namespace grpo::tensorboard {
namespace {

// A fenced code block that no run of backticks inside `text` can close early.
std::string code_block(const std::string& text) {
  size_t longest = 0, run = 0;
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + "\n" + text + "\n" + fence + "\n";
}

std::string number(double value) { return strformat("%.6g", value); }

}  // namespace

std::string sample_markdown(const SampleRecord& sample) {
  std::string out = strformat("**prompt %lld, sample %lld** · reward %s · advantage %s\n\n",
                              static_cast<long long>(sample.prompt_index), static_cast<long long>(sample.sample_index),
                              number(sample.reward).c_str(), number(sample.advantage).c_str());
  if (sample.rewards.is_object() && !sample.rewards.empty()) {
    std::vector<std::string> parts;
    for (const auto& [name, value] : sample.rewards.items())
      parts.push_back(name + " " + (value.is_number() ? number(value.get<double>()) : value.dump()));
    out += "rewards: " + join(parts, ", ") + "\n\n";
  }
  out += "prompt:\n\n" + code_block(sample.prompt) + "\ncompletion:\n\n" + code_block(sample.completion);
  return to_valid_utf8(out);
}

void RunEventWriter::log_scalars(int64_t step, double wall_time,
                                 const std::vector<std::pair<std::string, double>>& scalars) {
  std::vector<std::pair<std::string, double>> tagged;
  tagged.reserve(scalars.size());
  for (const auto& [name, value] : scalars) tagged.emplace_back(to_valid_utf8(name), value);
  file_.write(scalars_event(step, wall_time, tagged));
}

void RunEventWriter::log_metrics(int64_t step, double wall_time, const std::map<std::string, double>& metrics) {
  log_scalars(step, wall_time, {metrics.begin(), metrics.end()});
}

size_t RunEventWriter::log_histograms(int64_t step, double wall_time,
                                      const std::map<std::string, std::vector<double>>& histograms) {
  std::vector<std::pair<std::string, Histogram>> tagged;
  for (const auto& [name, values] : histograms)
    if (auto h = histogram_of(values)) tagged.emplace_back(to_valid_utf8(name), std::move(*h));
  if (!tagged.empty()) file_.write(histograms_event(step, wall_time, tagged));
  return tagged.size();
}

void RunEventWriter::log_samples(double wall_time, const std::vector<SampleRecord>& samples) {
  std::map<int64_t, std::vector<std::string>> rows_by_step;
  for (const auto& sample : samples) {
    auto& rows = rows_by_step[sample.step];
    if (rows.size() < kTextSamplesPerStep) rows.push_back(sample_markdown(sample));
  }
  for (const auto& [step, rows] : rows_by_step) file_.write(text_event(step, wall_time, kSamplesTag, rows));
}

void RunEventWriter::log_restart(int64_t step, double wall_time) { file_.write(session_start_event(step, wall_time)); }

}  // namespace grpo::tensorboard
