// `grpo launch`: N ranks of one program on this machine, with the environment torchrun gives
// (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT of a free
// port), for machines without torchrun. SIGINT, SIGTERM and SIGHUP are forwarded to every rank.
// The first rank that fails (non-zero exit or a signal) is named and the others are stopped:
// SIGTERM, then SIGKILL after a grace period, so the launch never outlives a broken job. Not here:
// several hosts (torchrun or srun), restarts, elastic membership.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace grpo::distributed {

struct LocalLaunch {
  int processes = 1;
  std::string program;                 // the executable each rank runs
  std::vector<std::string> arguments;  // its arguments (argv[1..])
  std::chrono::milliseconds grace{std::chrono::seconds(5)};  // SIGTERM to SIGKILL
};

// Runs the ranks to completion. Returns when every rank exited 0; throws grpo::Error naming the
// first rank that failed (its exit status or signal) once the others are stopped, or naming the
// signal the launch itself received.
void launch_local(const LocalLaunch& launch);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
int free_local_port();

}  // namespace grpo::distributed
