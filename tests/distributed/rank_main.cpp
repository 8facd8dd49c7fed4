// One rank of the distributed tests, started by `grpo launch --program` or by the test itself
// with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set. Roles (argv[1]):
//   learner DIR        the data-parallel learner case for every aggregation, results in DIR
//   rendezvous A B     joins with config fingerprint A on rank 0 and B on the others
//   die                joins; the last rank SIGKILLs itself, the others keep all-reducing
//   hold               joins, prints "held", then sleeps for a minute (a rank to be signalled)
// A grpo::Error is printed as "error: ..." with exit status 1.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "core/error.h"
#include "distributed/process_group.h"
#include "rl/algorithms/aggregation.h"
#include "tests/distributed/learner_case.h"

namespace {

using namespace grpo;

std::unique_ptr<distributed::ProcessGroup> join(const std::string& fingerprint) {
  distributed::RendezvousOptions options;
  options.timeout = distributed::timeout_from_environment();
  options.config_fingerprint = fingerprint;
  return distributed::rendezvous(distributed::world_from_environment(), options);
}

void learner(const std::string& dir) {
  auto group = join("learner");
  for (const auto& aggregation : rl::loss_aggregations().names()) {
    const auto result = testing::run_case(aggregation, testing::prompts_of_rank(group->rank(), group->size()), group.get());
    testing::save_case(result, dir + "/" + aggregation + ".rank" + std::to_string(group->rank()) + ".pt");
  }
}

void die() {
  auto group = join("die");
  if (group->rank() == group->size() - 1) raise(SIGKILL);
  for (;;) group->all_reduce_sum({torch::ones({4})});
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "learner") {
      learner(args[1]);
    } else if (args.size() == 3 && args[0] == "rendezvous") {
      const auto world = distributed::world_from_environment();
      join(world.rank == 0 ? args[1] : args[2])->barrier();
      std::cout << "rank " << world.rank << " joined\n";
    } else if (args.size() == 1 && args[0] == "die") {
      die();
    } else if (args.size() == 1 && args[0] == "hold") {
      auto group = join("hold");
      std::cout << "held" << std::endl;
      std::this_thread::sleep_for(std::chrono::minutes(1));
    } else {
      std::cerr << "usage: distributed_rank learner DIR | rendezvous A B | die | hold\n";
      return 2;
    }
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
