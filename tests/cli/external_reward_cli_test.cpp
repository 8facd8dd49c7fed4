// The `external` reward as a user drives it through the `grpo` binary: `grpo reward` scoring a
// JSONL file with a Python worker (tests/rewards/data/echo_worker.py), including a crashing
// sample that must cost only itself; `grpo config check` and `grpo rl` refusing a worker
// command that does not exist, naming it; and `grpo rl` training two steps with a worker the
// test writes, whose value proves the request carried the record's fields.
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
const std::string kEchoWorker = std::string(GRPO_SOURCE_DIR) + "/tests/rewards/data/echo_worker.py";

fs::path scratch(const std::string& name) { return grpo::testing::cli_scratch("external", name); }

}  // namespace

TEST(ExternalRewardCli, RewardCommandScoresAFileWithAPythonWorker) {
  const fs::path root = scratch("reward");
  {
    std::ofstream out(root / "completions.jsonl");
    for (const char* completion : {"42", "41", "crash", "42"}) {
      out << nlohmann::json{{"prompt", "6*7?"}, {"completion", completion}, {"answer", "42"}, {"topic", "times"}}.dump()
          << "\n";
    }
  }
  std::ofstream(root / "rewards.yaml") << "rewards:\n  - name: external\n    params:\n      command: [python3, " +
                                              kEchoWorker + "]\n      workers: 2\n      on_error: -1\n";
  const auto r = run_command(kGrpo + " reward --config " + (root / "rewards.yaml").string() + " --input " +
                             (root / "completions.jsonl").string() + " --output " + (root / "scored.jsonl").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto scored = read_jsonl(root / "scored.jsonl");
  ASSERT_EQ(scored.size(), 4u);
  const std::vector<double> expected = {1.0, 0.0, -1.0, 1.0};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(scored[i].at("reward").get<double>(), expected[i]) << scored[i].dump();
  EXPECT_EQ(scored[0].at("reasons").at("external").get<std::string>(), "echo times");
  EXPECT_NE(scored[2].at("reasons").at("external").get<std::string>().find("exited with status 3"), std::string::npos)
      << scored[2].dump();
  grpo::remove_tree(root);
}

TEST(ExternalRewardCli, MissingWorkerCommandFailsConfigCheckAndRlNamingIt) {
  const fs::path root = scratch("missing");
  std::ofstream(root / "rl.yaml") << "rewards:\n  - name: external\n    params: {command: [no-such-reward-worker]}\n";
  const auto check = run_command(kGrpo + " config check " + (root / "rl.yaml").string());
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_NE(check.output.find("command 'no-such-reward-worker' was not found on PATH"), std::string::npos)
      << check.output;
  const auto rl = run_command(kGrpo + " rl " + (root / "rl.yaml").string() + " --run-dir " + (root / "run").string());
  EXPECT_EQ(rl.exit_code, 1) << rl.output;
  EXPECT_NE(rl.output.find("no-such-reward-worker"), std::string::npos) << rl.output;
  EXPECT_FALSE(fs::exists(root / "run")) << "a bad config must fail before the run directory is made";
  grpo::remove_tree(root);
}

TEST(ExternalRewardCli, RlTrainsWithAnExternalWorkerThatSeesTheRecordsFields) {
  const fs::path root = scratch("rl");
  // 0.25 only when the request carries the record's prompt, answer and its own `level` field.
  std::ofstream(root / "worker.py")
      << "import json, sys\n"
         "for line in sys.stdin:\n"
         "    r = json.loads(line)\n"
         "    ok = r['prompt'].startswith('What is') and r['answer'] != '' and r.get('level') == 'easy'\n"
         "    print(json.dumps({'id': r['id'], 'value': 0.25 if ok else 0.0, 'reason': 'fields'}), flush=True)\n";
  {
    std::ofstream out(root / "train.jsonl");
    for (int i = 0; i < 8; ++i) {
      out << nlohmann::json{{"prompt", "What is " + std::to_string(i) + " + 1?"}, {"answer", std::to_string(i + 1)},
                            {"level", "easy"}}.dump() << "\n";
    }
  }
  grpo::testing::make_tiny_policy(root / "policy", {"What is 3 + 1?", "<answer>4</answer>"});
  std::ofstream(root / "rl.yaml")
      << "run:\n  seed: 5\n  device: cpu\n  threads: 1\n  log_level: warn\n"
         "policy:\n  path: " + (root / "policy").string() + "\n  template: raw\n"
         "data:\n  train:\n    path: " + (root / "train.jsonl").string() + "\n"
         "rollout:\n  max_new_tokens: 4\n  max_batch_sequences: 8\n"
         "rewards:\n  - name: external\n    params:\n      command: [python3, " + (root / "worker.py").string() +
         "]\n      workers: 2\n      batch: 4\n"
         "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 8\n  num_iterations: 1\n"
         "train:\n  steps: 2\n  save_every: 0\n  log_samples: 2\n";
  const auto rl = run_command(kGrpo + " rl " + (root / "rl.yaml").string() + " --run-dir " + (root / "run").string());
  ASSERT_EQ(rl.exit_code, 0) << rl.output;
  grpo::RunStoreReader reader((root / "run" / "run.db").string());
  const auto series = reader.metric_series("reward/external/mean");
  ASSERT_EQ(series.size(), 2u);
  for (const auto& point : series) EXPECT_EQ(point.value, 0.25) << "step " << point.step;
  grpo::remove_tree(root);
}
