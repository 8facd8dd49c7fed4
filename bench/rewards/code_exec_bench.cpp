// Sandboxed executions per second of a trivial Python program (print(1)), one at a time and
// with every slot busy, beside the same program run by plain fork+exec without any sandbox.
// Usage: code_exec_bench [N=200]. Prints one JSON object.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "rewards/code/sandbox.h"

namespace {

using Clock = std::chrono::steady_clock;

double per_second(size_t n, Clock::time_point start) {
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

double sandboxed(size_t n, size_t slots) {
  grpo::rewards::Sandbox sandbox({}, slots);
  grpo::rewards::SandboxProgram p;
  p.argv = {grpo::rewards::sandbox_python(), "-I", "-c", "print(1)"};
  grpo::ThreadPool pool(slots);
  const auto start = Clock::now();
  pool.parallel_for(n, [&](size_t) {
    if (!sandbox.run(p).ok()) std::abort();
  });
  return per_second(n, start);
}

double plain(size_t n) {
  const std::string python = grpo::rewards::sandbox_python();
  const auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      const int null_fd = open("/dev/null", O_WRONLY);
      dup2(null_fd, 1);
      execl(python.c_str(), python.c_str(), "-I", "-c", "print(1)", static_cast<char*>(nullptr));
      _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
  }
  return per_second(n, start);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  const double baseline = plain(n / 2);
  const double one = sandboxed(n / 2, 1);
  const double all = sandboxed(n, threads);
  const nlohmann::json out = {{"benchmark", "code_exec"},
                              {"program", "print(1)"},
                              {"executions", n},
                              {"executions_per_s_1_slot", one},
                              {"executions_per_s_all_slots", all},
                              {"slots", threads},
                              {"baseline_plain_fork_exec_per_s", baseline},
                              {"ratio_1_slot_vs_plain", one / baseline},
                              {"isolation", grpo::rewards::Sandbox::isolation()},
                              {"device", "cpu"}};
  std::cout << out.dump(2) << "\n";
}
