// `grpo reward check --config R.yaml` in its two modes:
// - `--input completions.jsonl`: the reward-hacking audit of rewards/audit.h on a file of
//   completions, the same audit `grpo rl` logs every step. R.yaml is read as a run config: its
//   `rewards:` list scores the records (the format and correctness rewards decide
//   audit/format_without_accuracy) and its optional `audit:` section sets the thresholds. Records
//   that share a prompt form one group. Prints each metric with its count, threshold and whether
//   it is over, then a few flagged records per metric.
// - `--cases labeled.jsonl`: the validation harness of cli/reward_cases.h (agreement with
//   expected labels or, with `--against`, with a second config; exit 1 under --min-agreement).
// It writes no file and changes no score (scoring a file is `grpo reward`). Registered as a
// subcommand of `reward`; main() sets commands up sorted by name, so `reward` exists when this runs.
#include <algorithm>
#include <cstdio>

#include "cli/command.h"
#include "cli/completion_file.h"
#include "cli/reward_cases.h"
#include "core/error.h"
#include "rewards/audit.h"
#include "rewards/completion_records.h"
#include "rewards/reward_set.h"
#include "rl/experiment/experiment_config.h"

namespace {

using grpo::Error;
using grpo::SourceLocation;

struct CheckOptions {
  std::string config, input;
  grpo::rewards::RecordFields fields{"prompt", "completion", "answer", /*answer_required=*/false};
  size_t examples = 3;  // flagged records per metric
};

void run_check(const CheckOptions& o) {
  const grpo::ExperimentConfig config = grpo::load_experiment_config(o.config, {});
  const grpo::rewards::RewardSet set(config.rewards);
  const auto records = grpo::cli::read_completion_file(o.input, o.fields, "records to audit");
  std::vector<grpo::rewards::Sample> completions;
  for (const auto& r : records) completions.push_back(r.sample);
  const auto scores =
      set.score(completions, [&](size_t i) { return o.input + ":" + std::to_string(records[i].line); });
  const auto roles = grpo::rewards::audit_roles(set.kinds(), set.correctness_index());
  const auto samples = grpo::rewards::audit_samples_by_prompt(completions, scores, roles);
  const auto findings = grpo::rewards::audit_findings(samples, {roles.answers_are_values}, config.audit);

  size_t groups = 0;
  for (const auto& s : samples) groups = std::max(groups, s.group + 1);
  std::printf("audit of %zu completions in %zu groups (%s)\n", samples.size(), groups, o.input.c_str());
  std::printf("%-34s %9s %7s %10s\n", "metric", "fraction", "count", "threshold");
  for (const auto& f : findings) {
    std::printf("%-34s %9.4f %7zu %10.4f%s\n", f.metric.c_str(), f.fraction, f.flagged.size(), f.threshold,
                f.over() ? "  OVER" : "");
  }
  for (const auto& f : findings) {
    if (f.flagged.empty() || o.examples == 0) continue;
    std::printf("\n%s:\n", f.metric.c_str());
    for (size_t k = 0; k < f.flagged.size() && k < o.examples; ++k) {
      const size_t i = f.flagged[k];
      std::printf("  %s:%d  %s\n", o.input.c_str(), records[i].line,
                  grpo::cli::one_line_preview(records[i].sample.completion, 100).c_str());
    }
  }
}

void setup_reward_check(CLI::App& root) {
  auto o = std::make_shared<CheckOptions>();
  auto cases = std::make_shared<grpo::cli::RewardCasesOptions>();
  auto examples = std::make_shared<size_t>(0);
  auto min_agreement = std::make_shared<double>(0.0);
  auto* reward = root.get_subcommand("reward");
  auto* cmd = reward->add_subcommand(
      "check", "Audit completions for reward hacking (--input), or validate a reward on labeled cases (--cases)");
  cmd->add_option("--config", o->config, "Run or reward config: `rewards:` scores the records, `audit:` thresholds")
      ->required();
  auto* input = cmd->add_option("--input", o->input, "JSONL completions to audit: prompt, completion, answer, ...");
  auto* labeled = cmd->add_option("--cases", cases->cases,
                                  "JSONL labeled cases: completion, answer, the expected label, optional prompt");
  input->excludes(labeled);
  cmd->add_option("--against", cases->against, "--cases: a second config whose reward is compared case by case")
      ->needs(labeled);
  cmd->add_option("--reward", cases->reward, "--cases: the reward of --config to check (default: its correctness reward)")
      ->needs(labeled);
  cmd->add_option("--against-reward", cases->against_reward, "--cases: the reward of --against to compare")
      ->needs(labeled);
  cmd->add_option("--expected-field", cases->expected_field, "--cases: the label field (true/false or 1/0)")
      ->needs(labeled);
  auto* min_option = cmd->add_option("--min-agreement", *min_agreement,
                  "--cases: exit 1 when the agreement (with the labels, or of the two configs) is lower")
      ->check(CLI::Range(0.0, 1.0))
      ->needs(labeled);
  cmd->add_option("--prompt-field", o->fields.prompt, "Name of the prompt field");
  cmd->add_option("--completion-field", o->fields.completion, "Name of the completion field");
  cmd->add_option("--answer-field", o->fields.answer, "Name of the reference-answer field");
  auto* examples_option = cmd->add_option("--examples", *examples, "Records shown: flagged per audit metric (3), or disagreeing cases (10)");
  cmd->callback([=] {
    if (labeled->count() > 0) {
      cases->config = o->config;
      cases->fields.prompt = o->fields.prompt;
      cases->fields.completion = o->fields.completion;
      cases->fields.answer = o->fields.answer;
      if (examples_option->count() > 0) cases->examples = *examples;
      if (min_option->count() > 0) cases->min_agreement = *min_agreement;
      grpo::cli::run_reward_cases(*cases);
      return;
    }
    if (input->count() == 0) throw Error("grpo reward check: give --input (an audit) or --cases (a validation)");
    if (examples_option->count() > 0) o->examples = *examples;
    run_check(*o);
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(reward_check, setup_reward_check);
