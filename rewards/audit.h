// The reward-hacking audit: over a batch of scored completions (a GRPO step, or a file given
// to `grpo reward check`), the fraction of completions showing each known hack. Metrics, each
// a fraction of all completions in the batch:
//   audit/answer_copied_from_prompt  final answer copied from the prompt (hacking_checks.h)
//   audit/placeholder_thinking       <think> holds the template's placeholder text
//   audit/empty_thinking             <think></think> with nothing but whitespace inside
//   audit/duplicate_in_group         completion identical (trimmed) to another of its group
//   audit/answer_is_expression       final answer holds un-carried arithmetic (math/answer_form.h);
//                                    only when answers are values (not for countdown or code)
//   audit/format_without_accuracy    the format reward is fully satisfied while the correctness
//                                    reward says wrong; only when both rewards are configured
// and the thresholds above which a warning is due (config section `audit`); for `grpo reward
// check`, also which completions show each hack. It scores nothing and changes no reward; it
// only counts. No LibTorch.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/fields.h"
#include "rewards/reward_set.h"

namespace grpo::rewards {

struct AuditSettings {
  double answer_copied_from_prompt = 0.01;
  double placeholder_thinking = 0.01;
  double empty_thinking = 0.05;
  double duplicate_in_group = 0.9;
  double answer_is_expression = 0.01;
  double format_without_accuracy = 0.9;
};

inline void describe(config::Fields& f, AuditSettings& s) {
  const std::string above = "Warn when the fraction of completions ";
  const std::string tail = " exceeds this (see docs/rewards.md#gaming; 1 = never warn).";
  f.field("answer_copied_from_prompt", s.answer_copied_from_prompt, 0.01,
          above + "whose final answer is copied from the prompt" + tail);
  f.field("placeholder_thinking", s.placeholder_thinking, 0.01,
          above + "whose `<think>` is the template's placeholder text" + tail);
  f.field("empty_thinking", s.empty_thinking, 0.05, above + "with an empty `<think></think>`" + tail);
  f.field("duplicate_in_group", s.duplicate_in_group, 0.9,
          above + "identical to another completion of their group" + tail);
  f.field("answer_is_expression", s.answer_is_expression, 0.01,
          above + "whose final answer is un-carried arithmetic (math answers only)" + tail);
  f.field("format_without_accuracy", s.format_without_accuracy, 0.9,
          above + "that satisfy the format reward but are wrong" + tail);
}

// The audit metric names with their thresholds, "audit/..." -> threshold.
std::map<std::string, double> audit_thresholds(const AuditSettings& settings);

struct AuditSample {
  std::string_view prompt, completion;   // the prompt as rendered (with the template's system text)
  size_t group = 0;                      // completions sampled for one prompt share a group
  std::optional<bool> format_satisfied;  // nullopt when no format reward is configured
  std::optional<bool> correct;           // nullopt when no correctness reward is configured
};

struct AuditOptions {
  bool answers_are_values = true;  // false for countdown equations and code
};

// Which of the per-completion hacks one completion shows (duplicates need the whole group).
struct AuditFlags {
  bool answer_copied_from_prompt = false, placeholder_thinking = false, empty_thinking = false,
       answer_is_expression = false, format_without_accuracy = false;
};
AuditFlags audit_flags(const AuditSample& sample, const AuditOptions& options);

// duplicate[i]: completion i equals (trimmed) another completion of its group.
std::vector<bool> duplicates_in_group(const std::vector<AuditSample>& samples);

// The audit metrics of a batch, "audit/..." -> fraction. Metrics that do not apply are left
// out (see the header comment); an empty batch gives no metrics.
std::map<std::string, double> audit_metrics(const std::vector<AuditSample>& samples, const AuditOptions& options);

// The roles of a reward set's rewards in the audit: the format reward ("format", else
// "tag_count"), the correctness reward (math_accuracy, countdown or code at
// correctness_index), and whether answers are values (no countdown or code correctness).
struct AuditRoles {
  std::optional<size_t> format, correctness;
  bool answers_are_values = true;
};
// reward_kinds: the registered reward of each entry (RewardSet::kinds()), not its alias.
AuditRoles audit_roles(const std::vector<std::string>& reward_kinds, size_t correctness_index);

// The audit's view of one scored completion: format_satisfied and correct are whether the
// rewards in those roles are fully satisfied (reward_satisfied), left unset for a role no reward
// fills. reward_values: one per reward of the set, in its order.
AuditSample audit_sample(std::string_view prompt, std::string_view completion, size_t group,
                         const std::vector<double>& reward_values, const AuditRoles& roles);

// A file of scored completions as audit samples (`grpo reward check`): completions with the same
// prompt text form one group, numbered in order of first appearance. The samples view
// `samples`' text, which must outlive them.
std::vector<AuditSample> audit_samples_by_prompt(const std::vector<Sample>& samples, const BatchScores& scores,
                                                 const AuditRoles& roles);

// One metric over a batch, with its threshold and the completions that show it.
struct AuditFinding {
  std::string metric;           // "audit/..."
  double fraction = 0.0;        // flagged.size() / completions
  double threshold = 0.0;       // from AuditSettings
  std::vector<size_t> flagged;  // indices of the completions that show it, ascending
  bool over() const { return fraction > threshold; }
};

// One finding per metric that applies (those audit_metrics gives), sorted by metric name.
std::vector<AuditFinding> audit_findings(const std::vector<AuditSample>& samples, const AuditOptions& options,
                                         const AuditSettings& settings);

// Remembers which metrics are above their thresholds and reports each crossing upward once
// (a metric that falls back below may warn again later).
class AuditAlarm {
 public:
  explicit AuditAlarm(const AuditSettings& settings) : thresholds_(audit_thresholds(settings)) {}
  // One message per metric that is above its threshold now and was not at the last call.
  std::vector<std::string> crossed(const std::map<std::string, double>& metrics);

 private:
  std::map<std::string, double> thresholds_;
  std::set<std::string> above_;
};

}  // namespace grpo::rewards
