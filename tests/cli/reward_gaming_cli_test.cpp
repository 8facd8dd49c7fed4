// The anti-gaming pieces as a user drives them through the `grpo` binary: countdown data from
// `grpo data generate` scored by `grpo reward` and trained on by `grpo rl` with `format:
// countdown` (generator and reader agree), the audit metrics and a threshold warning in run.db
// and in the report's "Is it healthy?" panel, `grpo reward check` on a file of gamed completions, and `grpo reward` still
// asking for its flags. Everything is made in the test: data, tokenizer, a tiny policy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/filesystem.h"
#include "core/run_store.h"
#include "tests/cli/cli_files.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::read_jsonl;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

fs::path scratch(const std::string& name) { return grpo::testing::cli_scratch("gaming", name); }

}  // namespace

TEST(CountdownPipeline, GeneratedDataIsScoredAndTrainedOnWithTheCountdownFormat) {
  const fs::path root = scratch("countdown");
  const auto gen = run_command(kGrpo + " data generate --task countdown --n 16 --seed 2 --output " +
                               (root / "train.jsonl").string());
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const auto records = read_jsonl(root / "train.jsonl");
  ASSERT_EQ(records.size(), 16u);

  // The generator's own solutions score 1 with the countdown reward, read from its records.
  {
    std::ofstream out(root / "completions.jsonl");
    for (auto r : records) {
      r["completion"] = "<answer>" + r.at("solution").get<std::string>() + "</answer>";
      out << r.dump() << "\n";
    }
    std::ofstream(root / "countdown_reward.yaml") << "rewards:\n  - name: countdown\n";
  }
  const auto scored = run_command(kGrpo + " reward --config " + (root / "countdown_reward.yaml").string() +
                                  " --input " + (root / "completions.jsonl").string() + " --output " +
                                  (root / "scored.jsonl").string());
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  for (const auto& r : read_jsonl(root / "scored.jsonl")) EXPECT_EQ(r.at("reward").get<double>(), 1.0) << r.dump();

  // `grpo rl` reads the same file with the countdown shape (TinyZero's `nums` or `numbers`).
  std::vector<std::string> corpus;
  for (const auto& r : records) corpus.push_back(r.at("prompt").get<std::string>());
  corpus.push_back("<think>44 + 19</think><answer>44 + 19 + 35</answer>");
  grpo::testing::make_tiny_policy(root / "policy", corpus, 512);
  std::ofstream(root / "rl.yaml")
      << "run:\n  seed: 5\n  device: cpu\n  threads: 1\n  log_level: warn\n"
         "policy:\n  path: " + (root / "policy").string() + "\n  template: raw\n"
         "data:\n  train:\n    path: " + (root / "train.jsonl").string() + "\n    format: countdown\n"
         "rollout:\n  max_new_tokens: 6\n  max_batch_sequences: 8\n  temperature: 0\n"
         "rewards:\n  - name: countdown\n  - name: format\n    weight: 0.5\n    params: {mode: lenient}\n"
         "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 8\n  num_iterations: 1\n"
         "train:\n  steps: 2\n  save_every: 0\n  log_samples: 2\n";
  const auto rl = run_command(kGrpo + " rl " + (root / "rl.yaml").string() + " --run-dir " + (root / "run").string());
  ASSERT_EQ(rl.exit_code, 0) << rl.output;

  grpo::RunStoreReader reader((root / "run" / "run.db").string());
  const auto names = reader.metric_names();
  auto has = [&](const std::string& m) { return std::find(names.begin(), names.end(), m) != names.end(); };
  EXPECT_TRUE(has("reward/countdown/mean"));
  for (const char* m : {"audit/answer_copied_from_prompt", "audit/placeholder_thinking", "audit/empty_thinking",
                        "audit/duplicate_in_group", "audit/format_without_accuracy"}) {
    EXPECT_TRUE(has(m)) << m;
    EXPECT_EQ(reader.metric_series(m).size(), 2u) << m;
  }
  EXPECT_FALSE(has("audit/answer_is_expression"));  // countdown answers are equations by design
  // Greedy sampling makes every group one completion four times: duplicates cross their
  // threshold at step 1 and stay above, which is one warning, not one per step.
  EXPECT_EQ(reader.metric_series("audit/duplicate_in_group").back().value, 1.0);
  std::vector<std::string> warnings;
  for (const auto& e : reader.events(100)) {
    if (e.kind == "audit") warnings.push_back(std::to_string(e.step) + " " + e.level + " " + e.message);
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind("1 warn audit/duplicate_in_group = 1.000 is above its threshold 0.900", 0), 0u)
      << warnings[0];

  const auto report = run_command(kGrpo + " report " + (root / "run").string());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  std::ifstream in(root / "run" / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("<h4>Reward-hacking audit</h4>"), std::string::npos);
  EXPECT_NE(html.find("<td>audit/placeholder_thinking</td>"), std::string::npos);
  EXPECT_NE(html.find("1 threshold warning(s)"), std::string::npos);
  grpo::remove_tree(root);
}

TEST(RewardCheck, AuditsAFileOfCompletionsGroupedByPrompt) {
  const fs::path root = scratch("check");
  const std::string system =
      "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
      "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>.";
  auto record = [&](const std::string& question, const std::string& answer, const std::string& completion) {
    return nlohmann::json{{"prompt", system + " User: " + question + ". Assistant:"}, {"answer", answer},
                          {"completion", completion}}
        .dump();
  };
  std::ofstream(root / "completions.jsonl")
      << record("What is 6 * 3 - 0?", "18", "<think> reasoning process here </think> <answer> 6 * 3 - 0 </answer>") << "\n"
      << record("What is 6 * 3 - 0?", "18", "<think> reasoning process here </think> <answer> 6 * 3 - 0 </answer>") << "\n"
      << record("What is 6 * 3 - 0?", "18", "<think>6 times 3 is 18</think> <answer>18</answer>") << "\n"
      << record("What is 2 + 2?", "4", "<think></think> <answer>4</answer>") << "\n";
  std::ofstream(root / "rewards.yaml") << "rewards:\n  - name: math_accuracy\n  - name: format\n    weight: 0.5\n"
                                          "    params: {mode: lenient}\naudit:\n  empty_thinking: 0.5\n";
  const auto r = run_command(kGrpo + " reward check --config " + (root / "rewards.yaml").string() + " --input " +
                             (root / "completions.jsonl").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("audit of 4 completions in 2 groups"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("audit/placeholder_thinking            0.5000       2     0.0100  OVER"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("audit/answer_is_expression            0.5000       2     0.0100  OVER"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("audit/empty_thinking                  0.2500       1     0.5000\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("audit/duplicate_in_group              0.5000       2     0.9000\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("completions.jsonl:1  <think> reasoning process here"), std::string::npos) << r.output;
  grpo::remove_tree(root);
}

TEST(RewardCheck, APromptWithoutSystemTextSaysSoOnce) {
  const fs::path root = scratch("no_system");
  {
    std::ofstream out(root / "completions.jsonl");
    for (int i = 0; i < 3; ++i) {
      out << nlohmann::json{{"prompt", "User: What is " + std::to_string(i) + " + 1? Assistant:"},
                            {"answer", std::to_string(i + 1)},
                            {"completion", "<think>add one</think><answer>" + std::to_string(i + 1) + "</answer>"}}
                 .dump()
          << "\n";
    }
  }
  std::ofstream(root / "rewards.yaml") << "rewards:\n  - name: format\n    params: {mode: lenient}\n";
  const auto r = run_command(kGrpo + " reward --config " + (root / "rewards.yaml").string() + " --input " +
                             (root / "completions.jsonl").string() + " --output " + (root / "out.jsonl").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string warning = "no placeholder list";
  const size_t first = r.output.find(warning);
  EXPECT_NE(first, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(warning, first + 1), std::string::npos) << r.output;
  grpo::remove_tree(root);
}

TEST(RewardCheck, UnknownAnswerFormFailsTheConfigCheck) {
  const fs::path root = scratch("answer_form");
  std::ofstream(root / "bad.yaml") << "rewards:\n  - name: math_accuracy\n    params: {answer_form: exact}\n";
  const auto r = run_command(kGrpo + " config check " + (root / "bad.yaml").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("'rewards[0]': reward 'math_accuracy': param 'answer_form' must be one of value, "
                          "equivalent; got 'exact'"),
            std::string::npos)
      << r.output;
  grpo::remove_tree(root);
}

TEST(RewardCheck, PlainRewardStillNamesItsRequiredFlags) {
  const auto r = run_command(kGrpo + " reward --config x.yaml --input y.jsonl");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: grpo reward: --output is required (or run `grpo reward check`)\n");
}
