// `grpo reward check --config R.yaml --input completions.jsonl`: the reward-hacking audit of
// rewards/audit.h on a file of completions, the same audit `grpo rl` logs every step. R.yaml is
// read as a run config: its `rewards:` list scores the records (the format and correctness
// rewards decide audit/format_without_accuracy) and its optional `audit:` section sets the
// thresholds. Records that share a prompt form one group. Prints each metric with its count,
// threshold and whether it is over, then a few flagged records per metric. It writes no file
// and changes no score (scoring a file is `grpo reward`). Registered as a subcommand of
// `reward`; main() sets commands up sorted by name, so `reward` exists when this runs.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "cli/command.h"
#include "core/error.h"
#include "datasets/json_text.h"
#include "rewards/audit.h"
#include "rewards/reward_set.h"
#include "rl/experiment/experiment_config.h"

namespace {

using grpo::Error;
using grpo::SourceLocation;

struct CheckOptions {
  std::string config, input;
  std::string prompt_field = "prompt", completion_field = "completion", answer_field = "answer";
  size_t examples = 3;
};

struct Records {
  std::vector<grpo::rewards::Sample> samples;
  std::vector<int> lines;
};

std::string string_field(const nlohmann::json& record, const std::string& field, bool required,
                         const SourceLocation& where) {
  if (!record.contains(field)) {
    if (required) throw Error(where, "missing field '" + field + "'");
    return "";
  }
  if (!record[field].is_string()) throw Error(where, "field '" + field + "' must be a string");
  return record[field].get<std::string>();
}

Records read_records(const CheckOptions& o) {
  std::ifstream in(o.input);
  if (!in) throw Error(SourceLocation{o.input, 0, 0}, "cannot open the input file");
  Records out;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const SourceLocation where{o.input, line, 0};
    const nlohmann::json record = grpo::datasets::parse_json_line(text, o.input, line);
    if (!record.is_object()) throw Error(where, "each line must be a JSON object");
    grpo::rewards::Sample s;
    s.prompt = string_field(record, o.prompt_field, true, where);
    s.completion = string_field(record, o.completion_field, true, where);
    s.answer = string_field(record, o.answer_field, false, where);
    s.extra = std::move(record);
    out.samples.push_back(std::move(s));
    out.lines.push_back(line);
  }
  if (out.samples.empty()) throw Error(SourceLocation{o.input, 0, 0}, "no records to audit");
  return out;
}

std::string shorten(const std::string& text) {
  constexpr size_t kMax = 100;
  std::string flat;
  for (char c : text) flat += c == '\n' ? ' ' : c;
  return flat.size() > kMax ? flat.substr(0, kMax) + "..." : flat;
}

// Metric name -> whether record i shows it.
std::map<std::string, std::vector<bool>> flags_by_metric(const std::vector<grpo::rewards::AuditSample>& samples,
                                                         const grpo::rewards::AuditOptions& options) {
  std::map<std::string, std::vector<bool>> out;
  for (const auto& s : samples) {
    const auto f = grpo::rewards::audit_flags(s, options);
    out["audit/answer_copied_from_prompt"].push_back(f.answer_copied_from_prompt);
    out["audit/placeholder_thinking"].push_back(f.placeholder_thinking);
    out["audit/empty_thinking"].push_back(f.empty_thinking);
    out["audit/answer_is_expression"].push_back(f.answer_is_expression);
    out["audit/format_without_accuracy"].push_back(f.format_without_accuracy);
  }
  out["audit/duplicate_in_group"] = grpo::rewards::duplicates_in_group(samples);
  return out;
}

void run_check(const CheckOptions& o) {
  const grpo::ExperimentConfig config = grpo::load_experiment_config(o.config, {});
  const grpo::rewards::RewardSet set(config.rewards);
  const Records records = read_records(o);
  const auto scores =
      set.score(records.samples, [&](size_t i) { return o.input + ":" + std::to_string(records.lines[i]); });

  const auto roles = grpo::rewards::audit_roles(set.names(), set.correctness_index());
  std::map<std::string, size_t> groups;  // prompt -> group
  std::vector<grpo::rewards::AuditSample> samples;
  for (size_t i = 0; i < records.samples.size(); ++i) {
    const auto& s = records.samples[i];
    grpo::rewards::AuditSample a;
    a.prompt = s.prompt;
    a.completion = s.completion;
    a.group = groups.emplace(s.prompt, groups.size()).first->second;
    if (roles.format) a.format_satisfied = scores.values[i][*roles.format] >= 1.0 - 1e-9;
    if (roles.correctness) a.correct = scores.values[i][*roles.correctness] >= 1.0 - 1e-9;
    samples.push_back(a);
  }
  const grpo::rewards::AuditOptions options{roles.answers_are_values};
  const auto metrics = grpo::rewards::audit_metrics(samples, options);
  const auto thresholds = grpo::rewards::audit_thresholds(config.audit);
  const auto flags = flags_by_metric(samples, options);

  std::printf("audit of %zu completions in %zu groups (%s)\n", samples.size(), groups.size(), o.input.c_str());
  std::printf("%-34s %9s %7s %10s\n", "metric", "fraction", "count", "threshold");
  for (const auto& [name, value] : metrics) {
    const auto& flagged = flags.at(name);
    const size_t count = static_cast<size_t>(std::count(flagged.begin(), flagged.end(), true));
    const double limit = thresholds.at(name);
    std::printf("%-34s %9.4f %7zu %10.4f%s\n", name.c_str(), value, count, limit, value > limit ? "  OVER" : "");
  }
  for (const auto& [name, value] : metrics) {
    const auto& flagged = flags.at(name);
    size_t shown = 0;
    for (size_t i = 0; i < flagged.size() && shown < o.examples; ++i) {
      if (!flagged[i]) continue;
      if (shown++ == 0) std::printf("\n%s:\n", name.c_str());
      std::printf("  %s:%d  %s\n", o.input.c_str(), records.lines[i], shorten(records.samples[i].completion).c_str());
    }
  }
}

void setup_reward_check(CLI::App& root) {
  auto o = std::make_shared<CheckOptions>();
  auto* reward = root.get_subcommand("reward");
  auto* cmd = reward->add_subcommand("check", "Audit a JSONL file of completions for reward hacking (docs/rewards.md)");
  cmd->add_option("--config", o->config, "Run or reward config: `rewards:` scores the records, `audit:` thresholds")
      ->required();
  cmd->add_option("--input", o->input, "JSONL completions: prompt, completion, answer and any extra fields")
      ->required();
  cmd->add_option("--prompt-field", o->prompt_field, "Name of the prompt field");
  cmd->add_option("--completion-field", o->completion_field, "Name of the completion field");
  cmd->add_option("--answer-field", o->answer_field, "Name of the reference-answer field");
  cmd->add_option("--examples", o->examples, "Flagged records shown per metric");
  cmd->callback([o] { run_check(*o); });
}

}  // namespace

GRPO_REGISTER_COMMAND(reward_check, setup_reward_check);
