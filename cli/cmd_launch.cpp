// `grpo launch --nproc N -- <grpo arguments>`: N local ranks of a data-parallel job, with the
// environment torchrun sets, for machines without torchrun (distributed/local_launch.h). Each rank
// runs this grpo binary (or --program) with the arguments after `--`. Exits 0 when every rank
// did; otherwise names the first rank that failed, after stopping the others.
#include <unistd.h>

#include <climits>

#include "cli/command.h"
#include "core/error.h"
#include "distributed/local_launch.h"

namespace {

std::string this_executable() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  grpo::require(n > 0, "grpo launch: cannot find this executable (/proc/self/exe); pass --program");
  return std::string(path, static_cast<size_t>(n));
}

void setup_launch(CLI::App& root) {
  auto launch = std::make_shared<grpo::distributed::LocalLaunch>();
  auto* cmd = root.add_subcommand("launch", "Run N local ranks of a data-parallel job (torchrun's environment)");
  cmd->add_option("--nproc", launch->processes, "Ranks to start on this machine")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--program", launch->program, "Executable each rank runs (default: this grpo)");
  cmd->add_option("arguments", launch->arguments, "Arguments of each rank, after --, e.g. -- rl config.yaml")
      ->required();
  cmd->callback([launch] {
    if (launch->program.empty()) launch->program = this_executable();
    grpo::distributed::launch_local(*launch);
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(launch, setup_launch);
