// Data parallelism across real processes on CPU (Gloo, 2 ranks on 127.0.0.1): a 2-rank learner
// update equals the one-process update of the same batch (losses, gradient norm, weights within
// 1e-6) for every loss aggregation, run through `grpo launch`; `grpo launch` forwards SIGTERM to
// its ranks; a killed rank makes the other exit non-zero within the collective timeout; ranks
// with different configs all fail naming the rank that differs; an unreachable master fails with
// a timeout naming it; `grpo rl` on 2 ranks through `grpo launch` trains with rank 0 alone writing
// the run, while the other stages refuse a multi-rank environment. ZeRO-1
// (distributed.zero_stage: 1): the same equality for every aggregation with each rank holding
// half the optimizer state, bf16 compute bit-identical to the replicated optimizer, 3 ranks
// gathering uneven and empty shards, a checkpoint written by 2 sharded ranks resuming exactly in
// one process and the other way round, and `grpo rl` equal to the replicated run, resumed on 2
// ranks to the same bytes. Each case runs in seconds.
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

TEST(ZeroOne, ShardsAreCeilOfTheSizeOverTheRanksInRankOrderTheLastShorter) {
  const std::vector<std::pair<int64_t, int64_t>> ten_over_four = {{0, 3}, {3, 3}, {6, 3}, {9, 1}};
  for (int r = 0; r < 4; ++r) {
    const auto shard = distributed::shard_of(10, r, 4);
    EXPECT_EQ(std::make_pair(shard.begin, shard.size), ten_over_four[static_cast<size_t>(r)]) << "rank " << r;
  }
  EXPECT_EQ(distributed::shard_of(5, 3, 4).size, 0);  // more ranks than ceil-sized shards: empty
  EXPECT_EQ(distributed::shard_of(5, 3, 4).begin, 5);
  EXPECT_EQ(distributed::shard_of(7, 0, 1).size, 7);
  EXPECT_NE(error_of([] { distributed::shard_of(7, 2, 2); }).find("expected 0 <= rank < world"), std::string::npos);
}

TEST(ZeroOne, ThreeRanksGatherUnevenAndEmptyShardsInFloat32AndBfloat16) {
  const auto dir = fresh_dir("gather");
  const auto outcomes = run_ranks(3, "gather " + dir.string(), "GRPO_DISTRIBUTED_TIMEOUT_S=30", dir);
  for (int rank = 0; rank < 3; ++rank) {
    ASSERT_EQ(outcomes[static_cast<size_t>(rank)].exit_code, 0) << outcomes[static_cast<size_t>(rank)].output;
    std::vector<torch::Tensor> gathered;
    torch::load(gathered, (dir / ("gather.rank" + std::to_string(rank) + ".pt")).string());
    ASSERT_EQ(gathered.size(), 4u);
    for (size_t i = 0; i < gathered.size(); ++i)  // 10 elements: shards 4, 4, 2; 2 elements: 1, 1, 0
      EXPECT_TRUE(torch::equal(gathered[i], torch::arange(i % 2 == 0 ? 10 : 2, torch::kFloat32)))
          << "rank " << rank << " case " << i << ": " << gathered[i];
  }
  fs::remove_all(dir);
}

TEST(ZeroOne, AZeroStageOtherThanZeroOrOneIsRefusedNamingTheKey) {
  rl::DistributedSettings settings;
  settings.zero_stage = 2;
  const auto problems = rl::validate(settings);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "'distributed.zero_stage' must be 0 or 1 (ZeRO-2/3 are not implemented), got 2");
  settings.zero_stage = 1;
  EXPECT_TRUE(rl::validate(settings).empty());
}

TEST(ZeroOne, TwoShardedRanksUpdateAsOneProcessForEveryAggregationEachHoldingHalfTheOptimizerState) {
  const auto dir = fresh_dir("zero1");
  const auto launched = run_command(std::string(GRPO_BIN) + " launch --nproc 2 --program " + DISTRIBUTED_RANK_BIN +
                                    " -- learner " + dir.string() + " 1");
  ASSERT_EQ(launched.exit_code, 0) << launched.output;
  for (const auto& aggregation : rl::loss_aggregations().names()) {
    const auto expected = run_case(aggregation, {0, 1, 2, 3}, nullptr);
    ASSERT_GT(expected.optimizer_state_bytes, 0);
    int64_t state_bytes_over_ranks = 0;
    for (int rank = 0; rank < 2; ++rank) {
      const auto got = load_case((dir / (aggregation + ".zero1.rank" + std::to_string(rank) + ".pt")).string());
      for (size_t k = 0; k < 2; ++k)
        EXPECT_NEAR(got.minibatch_losses.at(k), expected.minibatch_losses[k], 1e-6) << aggregation << " minibatch " << k;
      EXPECT_NEAR(got.grad_norm, expected.grad_norm, 1e-6 * std::max(1.0, expected.grad_norm)) << aggregation;
      EXPECT_LT(max_difference(got, expected), 1e-6) << aggregation << " rank " << rank;
      // float32: the masters are the weights, so the state is the two moments of this rank's shard
      EXPECT_NEAR(static_cast<double>(got.optimizer_state_bytes), expected.optimizer_state_bytes / 2.0, 16.0)
          << aggregation << " rank " << rank;
      state_bytes_over_ranks += got.optimizer_state_bytes;
    }
    EXPECT_EQ(state_bytes_over_ranks, expected.optimizer_state_bytes) << aggregation;
  }
  fs::remove_all(dir);
}

TEST(ZeroOne, Bf16ShardedRanksHoldHalfTheMastersAndMomentsAndStepExactlyAsReplicatedOnes) {
  // bf16 compute over float32 masters: ZeRO-1 must give the replicated data-parallel run's
  // weights bit for bit (the same reduced gradients, the same arithmetic on each element).
  const auto dir = fresh_dir("zero1-bf16");
  for (const auto* zero : {"0", "1"}) {
    const auto launched = run_command(std::string(GRPO_BIN) + " launch --nproc 2 --program " + DISTRIBUTED_RANK_BIN +
                                      " -- learner " + dir.string() + " " + zero + " bf16");
    ASSERT_EQ(launched.exit_code, 0) << launched.output;
  }
  for (const auto& aggregation : rl::loss_aggregations().names())
    for (int rank = 0; rank < 2; ++rank) {
      const auto suffix = ".bf16.rank" + std::to_string(rank) + ".pt";
      const auto replicated = load_case((dir / (aggregation + suffix)).string());
      const auto sharded = load_case((dir / (aggregation + ".zero1" + suffix)).string());
      EXPECT_EQ(max_difference(sharded, replicated), 0.0) << aggregation << " rank " << rank;
      // 12 bytes a parameter (master + two moments) replicated, 6 on each of 2 ranks
      EXPECT_NEAR(static_cast<double>(sharded.optimizer_state_bytes), replicated.optimizer_state_bytes / 2.0, 24.0)
          << aggregation << " rank " << rank;
    }
  fs::remove_all(dir);
}

TEST(ZeroOne, ACheckpointOfTwoShardedRanksResumesExactlyInOneProcessAndOneOfOneProcessOnTwoShardedRanks) {
  const auto dir = fresh_dir("zero1-resume");
  const std::vector<int64_t> all = {0, 1, 2, 3};
  const auto expected = run_two_updates(all, nullptr, 0, {});
  EXPECT_GT(expected.grad_norm, 0.05) << "the second update must clip";
  auto launch_updates = [&](const std::string& save_to, const std::string& resume_from) {
    const auto launched = run_command(std::string(GRPO_BIN) + " launch --nproc 2 --program " + DISTRIBUTED_RANK_BIN +
                                      " -- updates " + dir.string() + " 1 " + save_to + " " + resume_from);
    EXPECT_EQ(launched.exit_code, 0) << launched.output;
    for (int rank = 0; rank < 2; ++rank) {
      const auto got = load_case((dir / ("updates.rank" + std::to_string(rank) + ".pt")).string());
      EXPECT_LT(max_difference(got, expected), 1e-6) << "save " << save_to << " resume " << resume_from << " rank " << rank;
      EXPECT_NEAR(got.grad_norm, expected.grad_norm, 1e-6) << "rank " << rank;
    }
  };
  // Saved by 2 sharded ranks (whole groups gathered to rank 0), resumed in one process.
  const auto saved_by_two = dir / "saved-by-two";
  launch_updates(saved_by_two.string(), "-");
  EXPECT_LT(max_difference(run_two_updates(all, nullptr, 0, {"", saved_by_two.string()}), expected), 1e-6);
  // Saved by one process: the same files; resumed on 2 sharded ranks, each keeping its shard.
  const auto saved_by_one = dir / "saved-by-one";
  run_two_updates(all, nullptr, 0, {saved_by_one.string(), ""});
  for (const auto* file : {"optimizer.pt", "weights.pt"}) {
    std::vector<torch::Tensor> one, two;
    torch::load(one, (saved_by_one / file).string());
    torch::load(two, (saved_by_two / file).string());
    ASSERT_EQ(one.size(), two.size()) << file;
    for (size_t i = 0; i < one.size(); ++i)
      EXPECT_LT((one[i].to(torch::kFloat64) - two[i].to(torch::kFloat64)).abs().max().item<double>(), 1e-6)
          << file << " tensor " << i;
  }
  launch_updates("-", saved_by_one.string());
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

// A tiny `grpo rl` run for 2 steps, checkpointing after each: the policy, the data and rl.yaml in
// `dir`, with `rl_extra` added to its rl: section.
fs::path write_tiny_rl_run(const fs::path& dir, const std::string& rl_extra = "") {
  const auto gen = run_command(std::string(GRPO_BIN) + " data generate --task arithmetic --n 32 --seed 1 --output " +
                               (dir / "train.jsonl").string() + " --difficulty easy");
  EXPECT_EQ(gen.exit_code, 0) << gen.output;
  make_tiny_policy(dir / "policy", {"What is 3 + 4? Give the exact integer result.", "<answer>7</answer>"});
  const auto config = dir / "rl.yaml";
  std::ofstream(config) << "run:\n  seed: 5\n  device: cpu\n  threads: 1\n  log_level: warn\n"
                           "policy:\n  path: " << (dir / "policy").string() << "\n  template: raw\n"
                           "data:\n  train:\n    path: " << (dir / "train.jsonl").string() << "\n"
                           "rollout:\n  max_new_tokens: 6\n"
                           "rewards:\n  - name: math_accuracy\n"
                           "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 2\n" << rl_extra <<
                           "optim:\n  lr: 0.001\n"
                           "train:\n  steps: 2\n  save_every: 1\n  log_samples: 1\n";
  return config;
}

// `grpo rl CONFIG --run-dir RUN [--resume]`, on `ranks` ranks through `grpo launch` or as one process.
CommandResult grpo_rl(int ranks, const fs::path& config, const fs::path& run_dir, bool resume = false) {
  const std::string launcher = ranks > 1 ? " launch --nproc " + std::to_string(ranks) + " -- rl " : " rl ";
  return run_command("env GRPO_DISTRIBUTED_TIMEOUT_S=60 " + std::string(GRPO_BIN) + launcher + config.string() +
                     " --run-dir " + run_dir.string() + (resume ? " --resume" : ""));
}

TEST(DataParallel, GrpoRlOnTwoRanksTrainsWithRankZeroAloneWritingTheRun) {
  const auto dir = fresh_dir("rl");
  const auto config = write_tiny_rl_run(dir);
  const auto run_dir = dir / "run";
  const auto r = grpo_rl(2, config, run_dir);
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

// The run directory as it was after step 1: its step-2 checkpoint and final model removed.
fs::path interrupted_copy(const fs::path& run_dir, const fs::path& copy) {
  fs::copy(run_dir, copy, fs::copy_options::recursive);
  fs::remove_all(copy / "checkpoints" / "step-2");
  fs::remove_all(copy / "final");
  return copy;
}

TEST(ZeroOne, GrpoRlOnTwoShardedRanksEqualsTheReplicatedRunAndResumesExactlyOnTwoRanksAndRunsOnOne) {
  const auto dir = fresh_dir("rl-zero1");
  // The tiny policy earns no reward (zero advantages): the entropy bonus alone moves the weights.
  const auto replicated_config = write_tiny_rl_run(dir, "  entropy_coef: 0.05\n");
  const auto config = dir / "rl-zero1.yaml";
  fs::copy_file(replicated_config, config);
  std::ofstream(config, std::ios::app) << "distributed:\n  zero_stage: 1\n";
  const auto run_dir = dir / "run";
  const auto r = grpo_rl(2, config, run_dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto final_model = read_file(run_dir / "final" / "model.safetensors");
  ASSERT_FALSE(final_model.empty());
  ASSERT_NE(final_model, read_file(run_dir / "checkpoints" / "step-1" / "model.safetensors")) << "step 2 trained";
  const auto replicated = grpo_rl(2, replicated_config, dir / "replicated");
  ASSERT_EQ(replicated.exit_code, 0) << replicated.output;
  EXPECT_EQ(read_file(dir / "replicated" / "final" / "model.safetensors"), final_model)
      << "ZeRO-1 must train exactly as the replicated optimizer";
  EXPECT_EQ(read_file(dir / "replicated" / "checkpoints" / "step-2" / "optimizer.pt").size(),
            read_file(run_dir / "checkpoints" / "step-2" / "optimizer.pt").size())
      << "rank 0 writes the whole gathered state";

  // Interrupted after step 1 and resumed on 2 sharded ranks: step 2 is replayed exactly.
  const auto two = interrupted_copy(run_dir, dir / "resumed-on-two");
  const auto resumed = grpo_rl(2, config, two, /*resume=*/true);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(read_file(two / "final" / "model.safetensors"), final_model) << "a resume on 2 ranks must be exact";

  // Resumed in one process: it loads the 2 ranks' checkpoint and trains step 2 on the whole batch.
  const auto one = interrupted_copy(run_dir, dir / "resumed-on-one");
  const auto single = grpo_rl(1, config, one, /*resume=*/true);
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const auto resumed_model = read_file(one / "final" / "model.safetensors");
  EXPECT_FALSE(resumed_model.empty());
  EXPECT_NE(resumed_model, read_file(one / "checkpoints" / "step-1" / "model.safetensors")) << "step 2 trained";
  RunStoreReader store((one / "run.db").string());
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
