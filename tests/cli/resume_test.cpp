// Exact resume: a `grpo rl` run killed with SIGKILL at a random point and resumed with
// --resume ends with the same per-step metrics and bit-identical final weights as a run that
// was never interrupted. Everything is made in the test: data, tokenizer, a tiny policy.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/filesystem.h"
#include "core/run_store.h"
#include "model/io/safetensors.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

std::string config_yaml(const fs::path& root) {
  return "run:\n  seed: 5\n  device: cpu\n  threads: 1\n  log_level: warn\n"
         "policy:\n  path: " + (root / "policy").string() + "\n  template: raw\n"
         "data:\n  train:\n    path: " + (root / "train.jsonl").string() + "\n"
         "rollout:\n  max_new_tokens: 6\n  max_batch_sequences: 16\n"
         "rewards:\n  - name: math_accuracy\n  - name: format\n    weight: 0.5\n    params: {mode: lenient}\n"
         "rl:\n  group_size: 4\n  batch_size: 16\n  micro_batch_size: 8\n  num_iterations: 2\n  kl_beta: 0.01\n"
         "optim:\n  lr: 0.001\n"
         "train:\n  steps: 6\n  save_every: 2\n  keep_last: 2\n  log_samples: 2\n";
}

std::map<std::string, std::vector<std::pair<int64_t, double>>> step_metrics(const fs::path& run) {
  grpo::RunStoreReader r((run / "run.db").string());
  std::map<std::string, std::vector<std::pair<int64_t, double>>> out;
  for (const auto& name : r.metric_names()) {
    // Wall-clock and process-memory figures differ between any two runs.
    if (name.rfind("time/", 0) == 0 || name.rfind("perf/", 0) == 0 || name.rfind("memory/", 0) == 0) continue;
    for (const auto& p : r.metric_series(name)) out[name].emplace_back(p.step, p.value);
  }
  return out;
}

}  // namespace

TEST(Resume, SigkillAtARandomPointThenResumeMatchesAnUninterruptedRun) {
  const fs::path root = fs::temp_directory_path() / ("grpo_resume_" + std::to_string(::getpid()));
  grpo::remove_tree(root);
  fs::create_directories(root);
  auto gen = run_command(kGrpo + " data generate --task arithmetic --n 64 --seed 1 --output " +
                         (root / "train.jsonl").string() + " --difficulty easy");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  grpo::testing::make_tiny_policy(root / "policy",
                                  {"What is 3 + 4? Give the exact integer result.", "<answer>7</answer>"});
  std::ofstream(root / "rl.yaml") << config_yaml(root);
  const std::string cmd = kGrpo + " rl " + (root / "rl.yaml").string() + " --run-dir ";

  auto whole = run_command(cmd + (root / "whole").string());
  ASSERT_EQ(whole.exit_code, 0) << whole.output;

  // The interrupted run: SIGKILL after a random delay past its first checkpoint.
  const fs::path cut = root / "cut";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setpgid(0, 0);  // its own group, so the kill reaches grpo whether or not sh forks it
    execl("/bin/sh", "sh", "-c", (cmd + cut.string() + " >/dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::mt19937 rng(std::random_device{}());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(cut / "checkpoints" / "step-2") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
  kill(-child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);

  auto resumed = run_command(cmd + cut.string() + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;

  EXPECT_EQ(step_metrics(root / "whole"), step_metrics(cut));
  auto a = grpo::model::SafetensorsFile::open(root / "whole" / "checkpoints" / "step-6" / "model.safetensors");
  auto b = grpo::model::SafetensorsFile::open(cut / "checkpoints" / "step-6" / "model.safetensors");
  ASSERT_EQ(a->entries().size(), b->entries().size());
  for (const auto& e : a->entries())
    EXPECT_TRUE(torch::equal(a->tensor(e.name), b->tensor(e.name))) << e.name << " differs after resume";
  grpo::remove_tree(root);
}
