// Data parallelism across real processes on CPU (Gloo, 2 ranks on 127.0.0.1): a 2-rank learner
// update equals the one-process update of the same batch (losses, gradient norm, weights within
// 1e-6) for every loss aggregation, run through `grpo launch`; `grpo launch` forwards SIGTERM to
// its ranks; a killed rank makes the other exit
// non-zero within the collective timeout; ranks with different configs all fail naming the rank
// that differs; an unreachable master fails with a timeout naming it; `grpo rl` on 2 ranks through `grpo launch` trains with rank 0 alone writing the run, while the
// other stages refuse a multi-rank environment. Each case runs in seconds.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "distributed/local_launch.h"
#include "rl/algorithms/aggregation.h"
#include "rl/trainer/grpo_learner.h"
#include "tests/common/error_of.h"
#include "core/run_store.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"
#include "tests/distributed/learner_case.h"

namespace grpo::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("grpo-distributed-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct RankOutcome {
  int exit_code = -1;
  std::string output;
};

// Starts the rank program once per rank with torchrun's variables (and `environment`, e.g.
// "GRPO_DISTRIBUTED_TIMEOUT_S=5"), waits for all, and returns each rank's exit status and output.
std::vector<RankOutcome> run_ranks(int world, const std::string& arguments, const std::string& environment,
                                   const fs::path& dir) {
  const int port = distributed::free_local_port();
  std::string command;
  for (int r = 0; r < world; ++r) {
    const auto out = (dir / ("out." + std::to_string(r))).string(), rc = (dir / ("rc." + std::to_string(r))).string();
    command += "(env RANK=" + std::to_string(r) + " WORLD_SIZE=" + std::to_string(world) +
               " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " + environment + " " +
               DISTRIBUTED_RANK_BIN + " " + arguments + " >" + out + " 2>&1; echo $? >" + rc + ") & ";
  }
  run_command(command + "wait");
  std::vector<RankOutcome> outcomes;
  for (int r = 0; r < world; ++r)
    outcomes.push_back({std::stoi(read_file(dir / ("rc." + std::to_string(r)))),
                        read_file(dir / ("out." + std::to_string(r)))});
  return outcomes;
}

double max_difference(const CaseResult& a, const CaseResult& b) {
  return (a.flat_weights() - b.flat_weights()).abs().max().item<double>();
}

TEST(DataParallel, TwoRankLearnerUpdateEqualsTheOneProcessUpdateForEveryAggregation) {
  const auto dir = fresh_dir("learner");
  const auto launched = run_command(std::string(GRPO_BIN) + " launch --nproc 2 --program " + DISTRIBUTED_RANK_BIN +
                                    " -- learner " + dir.string());
  ASSERT_EQ(launched.exit_code, 0) << launched.output;
  for (const auto& aggregation : rl::loss_aggregations().names()) {
    const auto expected = run_case(aggregation, {0, 1, 2, 3}, nullptr);
    CaseResult initial;
    for (const auto& p : case_model()->parameters()) initial.weights.push_back(p.detach());
    EXPECT_GT(max_difference(expected, initial), 1e-2) << aggregation << ": the update moved nothing";
    ASSERT_EQ(expected.minibatch_losses.size(), 2u);
    for (int rank = 0; rank < 2; ++rank) {
      const auto got = load_case((dir / (aggregation + ".rank" + std::to_string(rank) + ".pt")).string());
      ASSERT_EQ(got.minibatch_losses.size(), 2u) << aggregation;
      for (size_t k = 0; k < 2; ++k)
        EXPECT_NEAR(got.minibatch_losses[k], expected.minibatch_losses[k], 1e-6) << aggregation << " minibatch " << k;
      EXPECT_NEAR(got.grad_norm, expected.grad_norm, 1e-6 * std::max(1.0, expected.grad_norm)) << aggregation;
      EXPECT_LT(max_difference(got, expected), 1e-6) << aggregation << " rank " << rank;
    }
  }
  fs::remove_all(dir);
}

TEST(DataParallel, ARankShareOfOneProcessLossIsNotTheWholeLoss) {
  // The check above is not vacuous: one rank's share alone, unreduced, gives other numbers.
  const auto whole = run_case("token-mean", {0, 1, 2, 3}, nullptr);
  const auto share = run_case("token-mean", prompts_of_rank(0, 2), nullptr);
  EXPECT_GT(std::abs(share.minibatch_losses[0] - whole.minibatch_losses[0]), 1e-4);
}

TEST(DataParallel, PromptsThatDoNotSplitOverRanksAndMinibatchesAreRefusedNamingTheNumbers) {
  const auto message = error_of([] { rl::check_data_parallel_split(case_settings("token-mean"), 3); });
  EXPECT_NE(message.find("data parallel over 3 ranks: each step's 4 prompts (rl.batch_size 8 / rl.group_size 2)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("a multiple of 6 (ranks × rl.minibatches)"), std::string::npos) << message;
  EXPECT_EQ(error_of([] { rl::check_data_parallel_split(case_settings("token-mean"), 2); }), "");
}

TEST(DataParallel, AKilledRankMakesTheOtherExitNonZeroWithinTheTimeout) {
  const auto dir = fresh_dir("killed");
  const auto start = Clock::now();
  const auto outcomes = run_ranks(2, "die", "GRPO_DISTRIBUTED_TIMEOUT_S=10", dir);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(outcomes[0].exit_code, 1) << outcomes[0].output;
  EXPECT_NE(outcomes[0].output.find("error: all_reduce on rank 0 of 2 (gloo, timeout 10"), std::string::npos)
      << outcomes[0].output;
  EXPECT_NE(outcomes[1].exit_code, 0);
  EXPECT_LT(seconds, 20.0);
  fs::remove_all(dir);
}

TEST(DataParallel, LaunchNamesTheFirstRankThatFailedAndStopsTheOthers) {
  const auto start = Clock::now();
  const auto launched = run_command("env GRPO_DISTRIBUTED_TIMEOUT_S=60 " + std::string(GRPO_BIN) +
                                    " launch --nproc 2 --program " + DISTRIBUTED_RANK_BIN + " -- die");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(launched.exit_code, 1) << launched.output;
  EXPECT_NE(launched.output.find("grpo launch: rank 1 was killed by signal Killed"), std::string::npos)
      << launched.output;
  EXPECT_LT(seconds, 30.0) << "rank 0 must not wait for its 60 s timeout";
}

TEST(DataParallel, LaunchForwardsSigtermToEveryRankAndExitsNonZeroSayingSo) {
  const auto dir = fresh_dir("sigterm");
  const auto log = dir / "launch.log";
  const pid_t launcher = fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    const std::string command = std::string("exec ") + GRPO_BIN + " launch --nproc 2 --program " + DISTRIBUTED_RANK_BIN +
                                " -- hold >" + log.string() + " 2>&1";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (read_file(log).find("held\nheld") == std::string::npos && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE(read_file(log).find("held\nheld"), std::string::npos) << read_file(log);
  const auto start = Clock::now();
  kill(launcher, SIGTERM);
  int status = 0;
  waitpid(launcher, &status, 0);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 10.0) << "the ranks sleep for a minute";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << read_file(log);
  const auto message = read_file(log);  // either rank may be reaped first
  EXPECT_NE(message.find("grpo launch: received Terminated, forwarded to the 2 ranks; rank "), std::string::npos)
      << message;
  EXPECT_NE(message.find(" was killed by signal Terminated"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(DataParallel, MismatchedConfigsFailOnEveryRankNamingTheRankThatDiffers) {
  const auto dir = fresh_dir("mismatch");
  const auto outcomes = run_ranks(3, "rendezvous config-a config-b", "GRPO_DISTRIBUTED_TIMEOUT_S=20", dir);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(outcomes[r].exit_code, 1) << "rank " << r << ": " << outcomes[r].output;
    EXPECT_NE(outcomes[r].output.find("the ranks disagree on the config: rank(s) 1, 2 resolved a config whose "
                                      "fingerprint differs from rank 0's (config-a)"),
              std::string::npos)
        << "rank " << r << ": " << outcomes[r].output;
  }
  const auto agreed = run_ranks(2, "rendezvous same same", "GRPO_DISTRIBUTED_TIMEOUT_S=20", dir);
  EXPECT_EQ(agreed[0].exit_code, 0) << agreed[0].output;
  EXPECT_EQ(agreed[1].exit_code, 0) << agreed[1].output;
  fs::remove_all(dir);
}

TEST(DataParallel, AnUnreachableMasterTimesOutNamingIt) {
  const int port = distributed::free_local_port();  // nothing listens there
  const auto start = Clock::now();
  const auto r = run_command("env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
                             " GRPO_DISTRIBUTED_TIMEOUT_S=2 " + DISTRIBUTED_RANK_BIN + " rendezvous a a");
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("rendezvous at MASTER_ADDR:MASTER_PORT 127.0.0.1:" + std::to_string(port) +
                          " failed within 2.000 s (rank 1 of 2)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("check that rank 0 is running and that MASTER_ADDR is reachable"), std::string::npos);
  EXPECT_LT(seconds, 15.0);
}

TEST(DataParallel, GrpoRlOnTwoRanksTrainsWithRankZeroAloneWritingTheRun) {
  const auto dir = fresh_dir("rl");
  const auto gen = run_command(std::string(GRPO_BIN) + " data generate --task arithmetic --n 32 --seed 1 --output " +
                               (dir / "train.jsonl").string() + " --difficulty easy");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  make_tiny_policy(dir / "policy", {"What is 3 + 4? Give the exact integer result.", "<answer>7</answer>"});
  std::ofstream(dir / "rl.yaml") << "run:\n  seed: 5\n  device: cpu\n  threads: 1\n  log_level: warn\n"
                                    "policy:\n  path: " << (dir / "policy").string() << "\n  template: raw\n"
                                    "data:\n  train:\n    path: " << (dir / "train.jsonl").string() << "\n"
                                    "rollout:\n  max_new_tokens: 6\n"
                                    "rewards:\n  - name: math_accuracy\n"
                                    "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 2\n"
                                    "optim:\n  lr: 0.001\n"
                                    "train:\n  steps: 2\n  save_every: 1\n  log_samples: 1\n";
  const auto run_dir = dir / "run";
  const auto r = run_command("env GRPO_DISTRIBUTED_TIMEOUT_S=60 " + std::string(GRPO_BIN) + " launch --nproc 2 -- rl " +
                             (dir / "rl.yaml").string() + " --run-dir " + run_dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(run_dir / "final" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(run_dir / "checkpoints" / "step-2"));
  EXPECT_TRUE(fs::exists(run_dir / "ranks" / "1" / "run.log"));
  EXPECT_FALSE(fs::exists(run_dir / "ranks" / "1" / "final"));
  EXPECT_FALSE(fs::exists(run_dir / "ranks" / "1" / "checkpoints" / "step-1"));
  RunStoreReader store((run_dir / "run.db").string());
  EXPECT_EQ(store.metric_series("reward/total_mean").size(), 2u);
  fs::remove_all(dir);
}

TEST(DataParallel, StagesOtherThanGrpoRefuseSeveralRanksBeforeTheRunDirectoryIsMade) {
  const auto dir = fresh_dir("stage");
  const auto run_dir = dir / "run";
  const auto r = run_command("env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 " + std::string(GRPO_BIN) + " sft " +
                             GRPO_SOURCE_DIR + "/configs/quickstart-sft.yaml --run-dir " + run_dir.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("this process is rank 1 of 2 (local 1), master 127.0.0.1:29500 (torchrun), but `grpo sft` "
                          "does not run data-parallel yet (only `grpo rl` does"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(run_dir));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace grpo::testing
