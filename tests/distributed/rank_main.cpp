// One rank of the distributed tests, started by `grpo launch --program` or by the test itself
// with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set. Roles (argv[1]):
//   learner DIR [Z [bf16]]
//                      the data-parallel learner case for every aggregation, results in DIR
//                      (Z: distributed.zero_stage, default 0; bf16: bfloat16 compute over float32
//                      masters; files <aggregation>[.zero1][.bf16].rank<r>.pt)
//   updates DIR Z SAVE RESUME
//                      run_two_updates with zero stage Z, checkpointing to SAVE and resuming from
//                      RESUME ("-" = none); result in DIR/updates.rank<r>.pt
//   gather DIR         all_gather_shards of 10 and of 2 elements (float32, bfloat16), each rank
//                      filling only its shard; results in DIR/gather.rank<r>.pt
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

void learner(const std::string& dir, int zero_stage, bool bf16) {
  auto group = join("learner");
  const std::string tag = std::string(zero_stage == 1 ? ".zero1" : "") + (bf16 ? ".bf16" : "");
  const auto compute_dtype = bf16 ? std::optional<torch::Dtype>(torch::kBFloat16) : std::nullopt;
  for (const auto& aggregation : rl::loss_aggregations().names()) {
    const auto result = testing::run_case(aggregation, testing::prompts_of_rank(group->rank(), group->size()),
                                          group.get(), zero_stage, compute_dtype);
    testing::save_case(result, dir + "/" + aggregation + tag + ".rank" + std::to_string(group->rank()) + ".pt");
  }
}

void updates(const std::string& dir, int zero_stage, const std::string& save_to, const std::string& resume_from) {
  auto group = join("updates");
  testing::CaseCheckpoint checkpoint{save_to == "-" ? "" : save_to, resume_from == "-" ? "" : resume_from};
  const auto result = testing::run_two_updates(testing::prompts_of_rank(group->rank(), group->size()), group.get(),
                                               zero_stage, checkpoint);
  testing::save_case(result, dir + "/updates.rank" + std::to_string(group->rank()) + ".pt");
}

void gather(const std::string& dir) {
  auto group = join("gather");
  std::vector<torch::Tensor> results;
  for (const auto dtype : {torch::kFloat32, torch::kBFloat16})
    for (const int64_t n : {10, 2}) {
      auto flat = torch::full({n}, -1.0, dtype);  // other ranks' shards: stale until gathered
      const auto mine = distributed::shard_of(n, group->rank(), group->size());
      flat.narrow(0, mine.begin, mine.size).copy_(torch::arange(mine.begin, mine.begin + mine.size));
      group->all_gather_shards(flat);
      results.push_back(flat.to(torch::kFloat32));
    }
  torch::save(results, dir + "/gather.rank" + std::to_string(group->rank()) + ".pt");
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
    if (args.size() >= 2 && args.size() <= 4 && args[0] == "learner") {
      learner(args[1], args.size() >= 3 ? std::stoi(args[2]) : 0, args.size() == 4 && args[3] == "bf16");
    } else if (args.size() == 2 && args[0] == "gather") {
      gather(args[1]);
    } else if (args.size() == 5 && args[0] == "updates") {
      updates(args[1], std::stoi(args[2]), args[3], args[4]);
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
      std::cerr << "usage: distributed_rank learner DIR [ZERO [bf16]] | updates DIR ZERO SAVE RESUME | gather DIR | rendezvous A B | die | "
                   "hold\n";
      return 2;
    }
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
