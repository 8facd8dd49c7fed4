// The reward-hacking audit; see audit.h.
#include "rewards/audit.h"

#include <algorithm>

#include "core/strings.h"
#include "rewards/hacking_checks.h"
#include "rewards/math/answer_form.h"

namespace grpo::rewards {

std::map<std::string, double> audit_thresholds(const AuditSettings& s) {
  return {{"audit/answer_copied_from_prompt", s.answer_copied_from_prompt},
          {"audit/placeholder_thinking", s.placeholder_thinking},
          {"audit/empty_thinking", s.empty_thinking},
          {"audit/duplicate_in_group", s.duplicate_in_group},
          {"audit/answer_is_expression", s.answer_is_expression},
          {"audit/format_without_accuracy", s.format_without_accuracy}};
}

AuditFlags audit_flags(const AuditSample& sample, const AuditOptions& options) {
  AuditFlags flags;
  const std::string text = completion_with_opened_think(sample.prompt, sample.completion);
  if (const auto content = think_content(text)) {
    const auto problem = check_thinking(*content, sample.prompt, 0).problem;
    flags.empty_thinking = problem == ThinkingProblem::kEmpty;
    flags.placeholder_thinking = problem == ThinkingProblem::kPlaceholder;
  }
  if (const auto answer = final_answer(text)) {
    flags.answer_copied_from_prompt = answer_copied_from_prompt(*answer, sample.prompt);
    flags.answer_is_expression = options.answers_are_values && math::has_uncarried_arithmetic(*answer);
  }
  flags.format_without_accuracy = sample.format_satisfied.value_or(false) && sample.correct.has_value() &&
                                  !*sample.correct;
  return flags;
}

std::vector<bool> duplicates_in_group(const std::vector<AuditSample>& samples) {
  std::map<std::pair<size_t, std::string>, size_t> counts;
  std::vector<std::string> keys;
  keys.reserve(samples.size());
  for (const auto& s : samples) {
    keys.push_back(trim(std::string(s.completion)));
    ++counts[{s.group, keys.back()}];
  }
  std::vector<bool> duplicate(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) duplicate[i] = counts[{samples[i].group, keys[i]}] > 1;
  return duplicate;
}

namespace {

// Metric -> whether each sample shows it, for the metrics that apply (see audit.h); none for an
// empty batch.
std::map<std::string, std::vector<bool>> flags_by_metric(const std::vector<AuditSample>& samples,
                                                         const AuditOptions& options) {
  if (samples.empty()) return {};
  std::map<std::string, std::vector<bool>> out;
  for (const auto& s : samples) {
    const auto f = audit_flags(s, options);
    out["audit/answer_copied_from_prompt"].push_back(f.answer_copied_from_prompt);
    out["audit/placeholder_thinking"].push_back(f.placeholder_thinking);
    out["audit/empty_thinking"].push_back(f.empty_thinking);
    out["audit/answer_is_expression"].push_back(f.answer_is_expression);
    out["audit/format_without_accuracy"].push_back(f.format_without_accuracy);
  }
  out["audit/duplicate_in_group"] = duplicates_in_group(samples);
  if (!options.answers_are_values) out.erase("audit/answer_is_expression");
  const bool judged = samples.front().format_satisfied.has_value() && samples.front().correct.has_value();
  if (!judged) out.erase("audit/format_without_accuracy");
  return out;
}

}  // namespace

std::map<std::string, double> audit_metrics(const std::vector<AuditSample>& samples, const AuditOptions& options) {
  std::map<std::string, double> m;
  const double n = static_cast<double>(samples.size());
  for (const auto& [name, flags] : flags_by_metric(samples, options))
    m[name] = static_cast<double>(std::count(flags.begin(), flags.end(), true)) / n;
  return m;
}

std::vector<AuditFinding> audit_findings(const std::vector<AuditSample>& samples, const AuditOptions& options,
                                         const AuditSettings& settings) {
  const auto thresholds = audit_thresholds(settings);
  std::vector<AuditFinding> out;
  for (const auto& [name, flags] : flags_by_metric(samples, options)) {
    AuditFinding finding;
    finding.metric = name;
    finding.threshold = thresholds.at(name);
    for (size_t i = 0; i < flags.size(); ++i)
      if (flags[i]) finding.flagged.push_back(i);
    finding.fraction = static_cast<double>(finding.flagged.size()) / static_cast<double>(samples.size());
    out.push_back(std::move(finding));
  }
  return out;
}

AuditRoles audit_roles(const std::vector<std::string>& names, size_t correctness_index) {
  AuditRoles roles;
  for (const char* format_name : {"format", "tag_count"}) {
    const auto it = std::find(names.begin(), names.end(), format_name);
    if (it != names.end()) {
      roles.format = static_cast<size_t>(it - names.begin());
      break;
    }
  }
  if (correctness_index < names.size()) {
    const std::string& name = names[correctness_index];
    if (name == "math_accuracy" || name == "countdown" || name == "code") roles.correctness = correctness_index;
    roles.answers_are_values = name != "countdown" && name != "code";
  }
  return roles;
}

AuditSample audit_sample(std::string_view prompt, std::string_view completion, size_t group,
                         const std::vector<double>& reward_values, const AuditRoles& roles) {
  AuditSample a;
  a.prompt = prompt;
  a.completion = completion;
  a.group = group;
  if (roles.format) a.format_satisfied = reward_satisfied(reward_values.at(*roles.format));
  if (roles.correctness) a.correct = reward_satisfied(reward_values.at(*roles.correctness));
  return a;
}

std::vector<AuditSample> audit_samples_by_prompt(const std::vector<Sample>& samples, const BatchScores& scores,
                                                 const AuditRoles& roles) {
  std::map<std::string_view, size_t> group_of_prompt;
  std::vector<AuditSample> out;
  out.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    const size_t group = group_of_prompt.emplace(s.prompt, group_of_prompt.size()).first->second;
    out.push_back(audit_sample(s.prompt, s.completion, group, scores.values[i], roles));
  }
  return out;
}

std::vector<std::string> AuditAlarm::crossed(const std::map<std::string, double>& metrics) {
  std::vector<std::string> messages;
  for (const auto& [name, value] : metrics) {
    const auto limit = thresholds_.find(name);
    if (limit == thresholds_.end()) continue;
    const bool above = value > limit->second;
    if (above && !above_.count(name)) {
      messages.push_back(name + " = " + strformat("%.3f", value) + " is above its threshold " +
                         strformat("%.3f", limit->second) + " (config audit." + name.substr(6) +
                         "): look at the samples for reward hacking or a collapsing policy (docs/rewards.md#gaming)");
    }
    if (above) above_.insert(name);
    else above_.erase(name);
  }
  return messages;
}

}  // namespace grpo::rewards
