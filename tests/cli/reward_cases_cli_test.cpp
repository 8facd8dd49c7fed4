// The reward validation harness as a team drives it through the `grpo` binary: `grpo reward
// check --cases` on labeled math cases (agreement, the confusion matrix, the disagreeing case
// with its reason, exit 1 under --min-agreement), `--against` a Python worker compared case by
// case, and a case without its label named by file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/filesystem.h"
#include "tests/cli/cli_files.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;
const std::string kEchoWorker = std::string(GRPO_SOURCE_DIR) + "/tests/rewards/data/echo_worker.py";

fs::path scratch(const std::string& name) { return grpo::testing::cli_scratch("reward_cases", name); }

// Four labeled cases; the last label is wrong on purpose (7/2 is not 3), so math_accuracy agrees
// with three of four.
fs::path write_cases(const fs::path& root) {
  std::ofstream out(root / "cases.jsonl");
  out << R"({"completion": "The answer is \\boxed{42}.", "answer": "42", "expected": true})" << "\n"
      << R"({"completion": "So we get \\boxed{41}.", "answer": "42", "expected": false})" << "\n"
      << "\n"
      << R"({"completion": "\\boxed{0.5}", "answer": "\\frac{1}{2}", "expected": 1})" << "\n"
      << R"({"completion": "\\boxed{7/2}", "answer": "3", "expected": true})" << "\n";
  std::ofstream(root / "math.yaml") << "rewards:\n  - name: format\n  - name: math_accuracy\n";
  return root / "cases.jsonl";
}

std::string check_command(const fs::path& root, const std::string& extra) {
  return kGrpo + " reward check --config " + (root / "math.yaml").string() + " --cases " +
         (root / "cases.jsonl").string() + " " + extra;
}

}  // namespace

TEST(RewardCasesCli, ReportsAgreementConfusionAndTheDisagreeingCase) {
  const fs::path root = scratch("agreement");
  write_cases(root);
  const auto r = run_command(check_command(root, ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 cases"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("agreement of math_accuracy of " + (root / "math.yaml").string() +
                          " with 'expected': 0.7500 (3 of 4)"),
            std::string::npos)
      << r.output;
  // Rows: the reward; columns: the label. One wrong "pass" label: reward fail, expected pass.
  EXPECT_NE(r.output.find("pass                                      2              0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fail                                      1              1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("scores/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cases.jsonl:5  answer '3'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'expected': pass"), std::string::npos) << r.output;

  const auto strict = run_command(check_command(root, "--min-agreement 0.8"));
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  EXPECT_NE(strict.output.find("agreement 0.7500 is under --min-agreement 0.8000"), std::string::npos) << strict.output;
  EXPECT_EQ(run_command(check_command(root, "--min-agreement 0.75")).exit_code, 0);
  grpo::remove_tree(root);
}

TEST(RewardCasesCli, AgainstComparesTwoConfigsCaseByCase) {
  const fs::path root = scratch("against");
  write_cases(root);
  // The echo worker passes only a completion equal to the answer: it fails every case here,
  // while math_accuracy passes two of them.
  std::ofstream(root / "echo.yaml") << "rewards:\n  - name: external\n    params: {command: [python3, " + kEchoWorker +
                                           "]}\n";
  const auto r = run_command(check_command(root, "--against " + (root / "echo.yaml").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("agreement of A and B: 0.5000 (2 of 4)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("agreement with 'expected': A 0.7500, B 0.2500"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("echo"), std::string::npos) << r.output;  // B's reason on a disagreeing case
  const auto strict = run_command(check_command(root, "--against " + (root / "echo.yaml").string() +
                                                          " --min-agreement 0.9"));
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  grpo::remove_tree(root);
}

TEST(RewardCasesCli, ACaseWithoutItsLabelIsNamedByFileAndLine) {
  const fs::path root = scratch("unlabeled");
  write_cases(root);
  std::ofstream(root / "cases.jsonl", std::ios::app) << R"({"completion": "\\boxed{1}", "answer": "1"})" << "\n";
  const auto r = run_command(check_command(root, ""));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cases.jsonl:6:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("missing field 'expected'"), std::string::npos) << r.output;
  const auto both = run_command(kGrpo + " reward check --config " + (root / "math.yaml").string() + " --cases " +
                                (root / "cases.jsonl").string() + " --input " + (root / "cases.jsonl").string());
  EXPECT_NE(both.exit_code, 0) << both.output;
  grpo::remove_tree(root);
}
