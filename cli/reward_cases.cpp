// `grpo reward check --cases`: labeled cases scored by one or two reward configs; see
// reward_cases.h.
#include "cli/reward_cases.h"

#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "cli/completion_file.h"
#include "core/error.h"
#include "rewards/label_agreement.h"
#include "rewards/reward_set.h"
#include "rl/experiment/experiment_config.h"

namespace grpo::cli {
namespace {

struct Cases {
  std::vector<rewards::Sample> samples;
  std::vector<int> lines;
  std::optional<std::vector<bool>> expected;  // only when every case has a label
};

// A label is a boolean, or a number that passes when it satisfies the reward (1 = pass).
bool read_label(const nlohmann::json& value, const std::string& field, const SourceLocation& where) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number()) return rewards::reward_satisfied(value.get<double>());
  throw Error(where, "field '" + field + "' must be true/false or a number (1 = pass), got " + value.dump());
}

Cases read_cases(const RewardCasesOptions& o, bool labels_required) {
  Cases out;
  std::vector<bool> expected;
  for (auto& entry : read_completion_file(o.cases, o.fields, "cases to check")) {
    const SourceLocation where{o.cases, entry.line, 0};
    if (entry.record.contains(o.expected_field)) {
      expected.push_back(read_label(entry.record.at(o.expected_field), o.expected_field, where));
    } else if (labels_required) {
      throw Error(where, "missing field '" + o.expected_field + "' (the expected label: true/false)");
    }
    out.samples.push_back(std::move(entry.sample));
    out.lines.push_back(entry.line);
  }
  if (expected.size() == out.samples.size()) out.expected = std::move(expected);
  return out;
}

// One reward of a config, its verdicts on every case and the timings.
struct Scoring {
  std::string label;  // "math_accuracy of math.yaml"
  std::vector<bool> pass;
  std::vector<double> values;
  std::vector<std::string> reasons;
  double batch_seconds = 0;
  rewards::LatencySummary latency;
};

size_t reward_index(const rewards::RewardSet& set, const std::string& name, const std::string& config) {
  if (name.empty()) return set.correctness_index();
  for (size_t i = 0; i < set.names().size(); ++i)
    if (set.names()[i] == name) return i;
  throw Error(SourceLocation{config, 0, 0}, "no reward named '" + name + "' in its rewards: list");
}

Scoring score_cases(const std::string& config, const std::string& reward, const Cases& cases,
                    const std::string& cases_file) {
  const auto experiment = load_experiment_config(config, {});
  const rewards::RewardSet set(experiment.rewards);
  const size_t r = reward_index(set, reward, config);
  const auto describe = [&](size_t i) { return cases_file + ":" + std::to_string(cases.lines[i]); };
  Scoring s;
  s.label = set.names()[r] + " of " + config;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto scores = set.score(cases.samples, describe);
  s.batch_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (size_t i = 0; i < cases.samples.size(); ++i) {
    s.values.push_back(scores.values[i][r]);
    s.reasons.push_back(scores.reasons[i][r]);
    s.pass.push_back(rewards::reward_satisfied(scores.values[i][r]));
  }
  std::vector<double> latencies;
  for (size_t i = 0; i < cases.samples.size(); ++i) {
    const auto t0 = Clock::now();
    set.score({cases.samples[i]}, [&](size_t) { return describe(i); });
    latencies.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  s.latency = rewards::summarize_latencies(std::move(latencies));
  return s;
}

const char* verdict(bool pass) { return pass ? "pass" : "fail"; }

void print_matrix(const rewards::LabelAgreement& a, const std::string& rows, const std::string& columns) {
  std::printf("%-28s %14s %14s\n", (rows + " \\ " + columns).c_str(), "pass", "fail");
  std::printf("%-28s %14zu %14zu\n", "pass", a.both_pass, a.first_only);
  std::printf("%-28s %14zu %14zu\n", "fail", a.second_only, a.both_fail);
}

void print_speed(const Scoring& s, size_t cases) {
  std::printf("%s: %.0f scores/s (all %zu cases as one batch); one case alone: p50 %.1f us, p99 %.1f us, max %.1f us\n",
              s.label.c_str(), static_cast<double>(cases) / std::max(s.batch_seconds, 1e-9), cases,
              s.latency.p50_s * 1e6, s.latency.p99_s * 1e6, s.latency.max_s * 1e6);
}

void print_disagreements(const RewardCasesOptions& o, const Cases& cases, const rewards::LabelAgreement& a,
                         const Scoring& first, const Scoring* second) {
  if (a.disagreeing.empty() || o.examples == 0) return;
  std::printf("\ndisagreements (%zu of %zu shown):\n", std::min(o.examples, a.disagreeing.size()), a.disagreeing.size());
  for (size_t k = 0; k < a.disagreeing.size() && k < o.examples; ++k) {
    const size_t i = a.disagreeing[k];
    const auto& sample = cases.samples[i];
    std::printf("  %s:%d  answer '%s'  completion '%s'\n", o.cases.c_str(), cases.lines[i],
                one_line_preview(sample.answer, 60).c_str(), one_line_preview(sample.completion, 100).c_str());
    if (!second) std::printf("    '%s': %s\n", o.expected_field.c_str(), verdict(cases.expected->at(i)));
    for (const Scoring* s : {&first, second}) {
      if (!s) continue;
      std::printf("    %s: %g (%s): %s\n", s->label.c_str(), s->values[i], verdict(s->pass[i]),
                  one_line_preview(s->reasons[i], 120).c_str());
    }
  }
}

}  // namespace

void run_reward_cases(const RewardCasesOptions& o) {
  const bool compare = !o.against.empty();
  const Cases cases = read_cases(o, /*labels_required=*/!compare);
  const Scoring first = score_cases(o.config, o.reward, cases, o.cases);
  const std::optional<Scoring> second =
      compare ? std::optional<Scoring>(score_cases(o.against, o.against_reward, cases, o.cases)) : std::nullopt;
  const size_t n = cases.samples.size();
  std::printf("%zu cases (%s)\n", n, o.cases.c_str());

  double headline = 0;
  if (!compare) {
    const auto a = rewards::compare_labels(first.pass, *cases.expected);
    headline = a.agreement();
    std::printf("agreement of %s with '%s': %.4f (%zu of %zu)\n\n", first.label.c_str(), o.expected_field.c_str(),
                headline, a.both_pass + a.both_fail, n);
    print_matrix(a, "reward", o.expected_field);
    std::printf("\n");
    print_speed(first, n);
    print_disagreements(o, cases, a, first, nullptr);
  } else {
    const auto a = rewards::compare_labels(first.pass, second->pass);
    headline = a.agreement();
    std::printf("A = %s\nB = %s\nagreement of A and B: %.4f (%zu of %zu)\n\n", first.label.c_str(),
                second->label.c_str(), headline, a.both_pass + a.both_fail, n);
    print_matrix(a, "A", "B");
    if (cases.expected) {
      std::printf("\nagreement with '%s': A %.4f, B %.4f\n", o.expected_field.c_str(),
                  rewards::compare_labels(first.pass, *cases.expected).agreement(),
                  rewards::compare_labels(second->pass, *cases.expected).agreement());
    }
    std::printf("\n");
    print_speed(first, n);
    print_speed(*second, n);
    print_disagreements(o, cases, a, first, &*second);
  }
  if (o.min_agreement && headline < *o.min_agreement) {
    std::printf("\nagreement %.4f is under --min-agreement %.4f\n", headline, *o.min_agreement);
    std::fflush(stdout);
    throw ExitCode{1};
  }
}

}  // namespace grpo::cli
