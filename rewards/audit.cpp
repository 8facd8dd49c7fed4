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

std::map<std::string, double> audit_metrics(const std::vector<AuditSample>& samples, const AuditOptions& options) {
  if (samples.empty()) return {};
  size_t copied = 0, placeholder = 0, empty = 0, expression = 0, format_wrong = 0;
  for (const auto& s : samples) {
    const auto f = audit_flags(s, options);
    copied += f.answer_copied_from_prompt;
    placeholder += f.placeholder_thinking;
    empty += f.empty_thinking;
    expression += f.answer_is_expression;
    format_wrong += f.format_without_accuracy;
  }
  const auto duplicate = duplicates_in_group(samples);
  const double n = static_cast<double>(samples.size());
  std::map<std::string, double> m = {
      {"audit/answer_copied_from_prompt", copied / n},
      {"audit/placeholder_thinking", placeholder / n},
      {"audit/empty_thinking", empty / n},
      {"audit/duplicate_in_group", static_cast<double>(std::count(duplicate.begin(), duplicate.end(), true)) / n}};
  if (options.answers_are_values) m["audit/answer_is_expression"] = expression / n;
  const bool judged = samples.front().format_satisfied.has_value() && samples.front().correct.has_value();
  if (judged) m["audit/format_without_accuracy"] = format_wrong / n;
  return m;
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
