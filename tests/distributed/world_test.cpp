// The World read from torchrun's and Slurm's environment variables: a plain run is a world of
// one with no master; each bad value is an error naming the variable.
#include <gtest/gtest.h>

#include <map>

#include "distributed/process_group.h"
#include "distributed/world.h"
#include "tests/common/error_of.h"

namespace grpo::distributed {
namespace {

EnvironmentLookup environment(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(World, NoLauncherVariablesIsAWorldOfOneWithoutAMaster) {
  const auto world = world_from_environment(environment({{"MASTER_ADDR", "10.0.0.1"}}));
  EXPECT_FALSE(world.distributed());
  EXPECT_EQ(world.rank, 0);
  EXPECT_EQ(world.size, 1);
  EXPECT_EQ(world.master_addr, "");
  EXPECT_EQ(describe(world), "a world of one");
}

TEST(World, TorchrunVariablesGiveRankSizeLocalRankAndMaster) {
  const auto world = world_from_environment(environment({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"},
                                                         {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29611"},
                                                         {"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "0"}}));
  EXPECT_EQ(world.rank, 5);
  EXPECT_EQ(world.size, 8);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.master_addr, "node7");
  EXPECT_EQ(world.master_port, 29611);
  EXPECT_EQ(describe(world), "rank 5 of 8 (local 1), master node7:29611 (torchrun)");
}

TEST(World, SlurmVariablesWithAnExportedMasterAddrAndTheDefaultPort) {
  const auto world = world_from_environment(
      environment({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"}, {"MASTER_ADDR", "gpu-01"}}));
  EXPECT_EQ(world.rank, 3);
  EXPECT_EQ(world.size, 4);
  EXPECT_EQ(world.local_rank, 1);
  EXPECT_EQ(world.master_port, 29500);
  EXPECT_EQ(world.launcher, "slurm");
}

TEST(World, ASlurmStepOfOneTaskIsAWorldOfOne) {
  EXPECT_FALSE(world_from_environment(environment({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}})).distributed());
}

TEST(World, SeveralSlurmTasksWithoutMasterAddrSayHowToSetIt) {
  const auto message = testing::error_of(
      [] { world_from_environment(environment({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}})); });
  EXPECT_NE(message.find("a world of 2 processes (SLURM_NTASKS) needs MASTER_ADDR"), std::string::npos) << message;
  EXPECT_NE(message.find("scontrol show hostnames"), std::string::npos) << message;
}

TEST(World, ARankOutsideTheWorldNamesBothVariables) {
  const auto message = testing::error_of(
      [] { world_from_environment(environment({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}})); });
  EXPECT_EQ(message, "environment variable RANK=2: expected a rank below WORLD_SIZE=2");
}

TEST(World, ANonIntegerValueNamesTheVariable) {
  const auto message = testing::error_of(
      [] { world_from_environment(environment({{"RANK", "one"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}})); });
  EXPECT_EQ(message, "environment variable RANK='one': expected a non-negative integer");
  const auto port = testing::error_of([] {
    world_from_environment(
        environment({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}));
  });
  EXPECT_EQ(port, "environment variable MASTER_PORT=70000: expected a port in 1..65535");
}

TEST(World, WorldSizeWithoutRankIsAnError) {
  const auto message = testing::error_of([] { world_from_environment(environment({{"WORLD_SIZE", "2"}})); });
  EXPECT_EQ(message, "environment variable RANK is not set; a distributed launch sets it");
}

TEST(World, TheCollectiveTimeoutComesFromGrpoDistributedTimeoutS) {
  EXPECT_EQ(timeout_from_environment(environment({})).count(), 300000);
  EXPECT_EQ(timeout_from_environment(environment({{"GRPO_DISTRIBUTED_TIMEOUT_S", "2.5"}})).count(), 2500);
  const auto message =
      testing::error_of([] { timeout_from_environment(environment({{"GRPO_DISTRIBUTED_TIMEOUT_S", "0"}})); });
  EXPECT_EQ(message, "environment variable GRPO_DISTRIBUTED_TIMEOUT_S='0': expected a number of seconds > 0");
}

TEST(World, FingerprintsAreStableAndTellConfigsApart) {
  EXPECT_EQ(fingerprint(""), "cbf29ce484222325");  // FNV-1a's offset basis: nothing hashed
  EXPECT_EQ(fingerprint("a"), "af63dc4c8601ec8c");  // FNV-1a 64 of "a", the published test vector
  EXPECT_NE(fingerprint("rl:\n  lr: 1e-6\n"), fingerprint("rl:\n  lr: 2e-6\n"));
}

}  // namespace
}  // namespace grpo::distributed
