// Who this process is in a data-parallel job, read from the launcher's environment: torchrun's
// RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT (also what `grpo launch` sets), or
// Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID with MASTER_ADDR (and MASTER_PORT) exported
// by the job script. No such variables means a world of one: the run behaves exactly as a plain
// single-process run (no store, no process group). Not here: the rendezvous (process_group.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace grpo::distributed {

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;        // the rank within this host: which GPU a CUDA rank binds to
  std::string master_addr;   // rank 0's host, where the TCPStore listens; "" in a world of one
  int master_port = 0;
  std::string launcher;      // "torchrun" (RANK/WORLD_SIZE), "slurm", or "" in a world of one

  bool distributed() const { return size > 1; }
  bool is_main() const { return rank == 0; }
};

// Returns the value of an environment variable, or nothing when it is unset.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process's own environment (getenv).
std::optional<std::string> process_environment(const std::string& name);

// The World of this process. RANK/WORLD_SIZE win over the Slurm variables (torchrun inside a Slurm
// allocation). Errors (grpo::Error) name the variable and what was expected: a value that is not an
// integer, a rank outside [0, size), a world of several ranks without MASTER_ADDR.
World world_from_environment(const EnvironmentLookup& env = process_environment);

// "rank 1 of 4 (local 1), master 10.0.0.1:29500 (torchrun)" or "a world of one".
std::string describe(const World& world);

}  // namespace grpo::distributed
