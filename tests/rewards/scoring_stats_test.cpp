// Offline scoring as `grpo reward` and `grpo reward check` do it, without the CLI: a JSON record
// becomes a Sample (fields renamed, answer optional for the audit, errors at the record's line),
// a scored record gains its rewards, the per-reward statistics match hand-computed values, and
// the audit of a file groups completions by prompt and lists the completions behind each metric.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "core/error.h"
#include "rewards/audit.h"
#include "rewards/completion_records.h"
#include "rewards/reward_set.h"
#include "rewards/scoring_stats.h"
#include "tests/common/error_of.h"

namespace grpo::rewards {
namespace {

using grpo::testing::error_of;

const SourceLocation kLine7{"in.jsonl", 7, 0};

TEST(CompletionRecords, RecordBecomesASampleWithEveryFieldKept) {
  const nlohmann::json record = {{"q", "2+2?"}, {"out", "4"}, {"gold", "4"}, {"numbers", {1, 3}},
                                 {"completion_tokens", 12}, {"truncated", true}};
  const Sample s = sample_from_record(record, {"q", "out", "gold", true}, kLine7);
  EXPECT_EQ(s.prompt, "2+2?");
  EXPECT_EQ(s.completion, "4");
  EXPECT_EQ(s.answer, "4");
  EXPECT_EQ(s.extra.at("numbers"), nlohmann::json({1, 3}));
  EXPECT_EQ(s.completion_tokens, 12);
  EXPECT_TRUE(s.truncated);
}

TEST(CompletionRecords, ProblemsNameTheLineAndTheField) {
  const RecordFields fields;
  EXPECT_EQ(error_of([&] { sample_from_record({{"prompt", "p"}, {"completion", "c"}}, fields, kLine7); }),
            "in.jsonl:7: missing field 'answer'");
  EXPECT_EQ(error_of([&] { sample_from_record({{"prompt", 1}, {"completion", "c"}, {"answer", "a"}}, fields, kLine7); }),
            "in.jsonl:7: field 'prompt' must be a string");
  EXPECT_EQ(error_of([&] { sample_from_record(nlohmann::json::array(), fields, kLine7); }),
            "in.jsonl:7: each line must be a JSON object");
  EXPECT_EQ(error_of([&] {
              sample_from_record({{"prompt", "p"}, {"completion", "c"}, {"answer", "a"}, {"completion_tokens", 1.5}},
                                 fields, kLine7);
            }),
            "in.jsonl:7: field 'completion_tokens' must be an integer");
}

TEST(CompletionRecords, AnswerMayBeMissingWhenNotRequired) {
  RecordFields fields;
  fields.answer_required = false;
  EXPECT_EQ(sample_from_record({{"prompt", "p"}, {"completion", "c"}}, fields, kLine7).answer, "");
}

TEST(CompletionRecords, ScoredRecordCarriesRewardsTotalAndReasons) {
  BatchScores scores;
  scores.names = {"format", "math_accuracy"};
  scores.values = {{0.0, 0.0}, {1.0, 0.5}};
  scores.reasons = {{"a", "b"}, {"no tags", "close"}};
  scores.totals = {0.0, 1.25};
  const auto out = with_scores({{"prompt", "p"}}, scores, 1);
  EXPECT_EQ(out.at("prompt"), "p");
  EXPECT_EQ(out.at("rewards"), nlohmann::json({{"format", 1.0}, {"math_accuracy", 0.5}}));
  EXPECT_EQ(out.at("reward"), 1.25);
  EXPECT_EQ(out.at("reasons").at("format"), "no tags");
}

TEST(ScoringStats, MeanPopulationStdMinMaxAndNonzeroPerRewardAndTotal) {
  const RewardSet set({{"math_accuracy", 1.0, {}}, {"format", 0.5, {}}});
  ScoringStats stats(set);
  EXPECT_TRUE(stats.rows().empty());
  BatchScores first, second;  // batches of 2 and 1: statistics do not depend on the batching
  first.values = {{1.0, 1.0}, {0.0, 1.0}};
  first.totals = {1.5, 0.5};
  second.values = {{0.0, 0.0}};
  second.totals = {0.0};
  stats.add(first);
  stats.add(second);
  const auto rows = stats.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(stats.count(), 3u);
  // math_accuracy: 1, 0, 0 → mean 1/3, population var 1/3 - 1/9 = 2/9, one non-zero
  EXPECT_EQ(rows[0].name, "math_accuracy");
  EXPECT_EQ(rows[0].weight, 1.0);
  EXPECT_DOUBLE_EQ(rows[0].mean, 1.0 / 3.0);
  EXPECT_NEAR(rows[0].stddev, std::sqrt(2.0 / 9.0), 1e-12);
  EXPECT_EQ(rows[0].nonzero, 1u);
  // format: 1, 1, 0 at weight .5
  EXPECT_EQ(rows[1].weight, 0.5);
  EXPECT_DOUBLE_EQ(rows[1].mean, 2.0 / 3.0);
  EXPECT_EQ(rows[1].nonzero, 2u);
  // total: 1.5, .5, 0 → mean 2/3, var (2.25 + .25)/3 - 4/9 = 7/18
  EXPECT_EQ(rows[2].name, "total");
  EXPECT_FALSE(rows[2].weight.has_value());
  EXPECT_DOUBLE_EQ(rows[2].min, 0.0);
  EXPECT_DOUBLE_EQ(rows[2].max, 1.5);
  EXPECT_NEAR(rows[2].stddev, std::sqrt(7.0 / 18.0), 1e-12);
  EXPECT_EQ(rows[2].count, 3u);
}

TEST(CompletionAudit, CompletionsWithTheSamePromptShareAGroup) {
  std::vector<Sample> samples(4);
  const char* prompts[] = {"a", "b", "a", "c"};
  for (size_t i = 0; i < 4; ++i) {
    samples[i].prompt = prompts[i];
    samples[i].completion = "<think>x</think><answer>1</answer>";
  }
  BatchScores scores;
  scores.values = {{1.0, 0.0}, {1.0, 1.0}, {1.0 - 1e-12, 0.999}, {0.0, 1.0}};  // [format, math_accuracy]
  const auto roles = audit_roles({"format", "math_accuracy"}, 1);
  const auto audit = audit_samples_by_prompt(samples, scores, roles);
  ASSERT_EQ(audit.size(), 4u);
  EXPECT_EQ(audit[0].group, 0u);
  EXPECT_EQ(audit[1].group, 1u);
  EXPECT_EQ(audit[2].group, 0u);
  EXPECT_EQ(audit[3].group, 2u);
  // reward_satisfied: 1 within rounding, so 1 - 1e-12 counts and .999 does not
  EXPECT_EQ(audit[2].format_satisfied, true);
  EXPECT_EQ(audit[2].correct, false);
  EXPECT_EQ(audit[3].format_satisfied, false);

  const auto findings = audit_findings(audit, {roles.answers_are_values}, AuditSettings{});
  const auto find = [&](const std::string& metric) {
    for (const auto& f : findings)
      if (f.metric == metric) return f;
    ADD_FAILURE() << metric << " missing";
    return AuditFinding{};
  };
  // completions 0 and 2 are identical and share prompt "a"; 0 and 2 are formatted but wrong
  const auto duplicates = find("audit/duplicate_in_group");
  EXPECT_EQ(duplicates.flagged, (std::vector<size_t>{0, 2}));
  EXPECT_DOUBLE_EQ(duplicates.fraction, 0.5);
  EXPECT_FALSE(duplicates.over());  // threshold .9
  const auto format_wrong = find("audit/format_without_accuracy");
  EXPECT_EQ(format_wrong.flagged, (std::vector<size_t>{0, 2}));
  EXPECT_DOUBLE_EQ(format_wrong.threshold, 0.9);
  // findings carry the same fractions as the metrics `grpo rl` logs
  const auto metrics = audit_metrics(audit, {roles.answers_are_values});
  ASSERT_EQ(findings.size(), metrics.size());
  for (const auto& f : findings) EXPECT_DOUBLE_EQ(f.fraction, metrics.at(f.metric)) << f.metric;
}

}  // namespace
}  // namespace grpo::rewards
