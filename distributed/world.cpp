// World from the launcher's environment; see world.h.
#include "distributed/world.h"

#include <cstdlib>

#include "core/error.h"

namespace grpo::distributed {
namespace {

// The default port of torchrun and c10d when MASTER_PORT is not exported (Slurm jobs).
constexpr int kDefaultMasterPort = 29500;

int integer_variable(const EnvironmentLookup& env, const std::string& name, std::optional<int> fallback) {
  const auto value = env(name);
  if (!value) {
    require(fallback.has_value(), "environment variable " + name + " is not set; a distributed launch sets it");
    return *fallback;
  }
  try {
    size_t used = 0;
    const long parsed = std::stol(*value, &used);
    if (used == value->size() && parsed >= 0 && parsed <= 1'000'000) return static_cast<int>(parsed);
  } catch (const std::exception&) {
  }
  throw Error("environment variable " + name + "='" + *value + "': expected a non-negative integer");
}

}  // namespace

std::optional<std::string> process_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

World world_from_environment(const EnvironmentLookup& env) {
  World world;
  if (env("WORLD_SIZE")) {
    world.launcher = "torchrun";
    world.size = integer_variable(env, "WORLD_SIZE", std::nullopt);
    world.rank = integer_variable(env, "RANK", std::nullopt);
    world.local_rank = integer_variable(env, "LOCAL_RANK", world.rank);
  } else if (env("SLURM_NTASKS")) {
    world.launcher = "slurm";
    world.size = integer_variable(env, "SLURM_NTASKS", std::nullopt);
    world.rank = integer_variable(env, "SLURM_PROCID", 0);
    world.local_rank = integer_variable(env, "SLURM_LOCALID", 0);
  }
  const std::string size_name = world.launcher == "slurm" ? "SLURM_NTASKS" : "WORLD_SIZE";
  const std::string rank_name = world.launcher == "slurm" ? "SLURM_PROCID" : "RANK";
  require(world.size >= 1, "environment variable " + size_name + "=0: expected a world of at least one process");
  require(world.rank < world.size, "environment variable " + rank_name + "=" + std::to_string(world.rank) +
                                       ": expected a rank below " + size_name + "=" + std::to_string(world.size));
  if (!world.distributed()) return World{};

  const auto addr = env("MASTER_ADDR");
  require(addr && !addr->empty(),
          "a world of " + std::to_string(world.size) + " processes (" + size_name +
              ") needs MASTER_ADDR, the host of rank 0; torchrun and `grpo launch` set it, under Slurm export it "
              "in the job script, e.g. MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1)");
  world.master_addr = *addr;
  world.master_port = integer_variable(env, "MASTER_PORT", kDefaultMasterPort);
  require(world.master_port >= 1 && world.master_port <= 65535,
          "environment variable MASTER_PORT=" + std::to_string(world.master_port) + ": expected a port in 1..65535");
  return world;
}

std::string describe(const World& world) {
  if (!world.distributed()) return "a world of one";
  return "rank " + std::to_string(world.rank) + " of " + std::to_string(world.size) + " (local " +
         std::to_string(world.local_rank) + "), master " + world.master_addr + ":" + std::to_string(world.master_port) +
         " (" + world.launcher + ")";
}

}  // namespace grpo::distributed
