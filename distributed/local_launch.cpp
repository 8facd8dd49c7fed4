// Spawning and supervising local ranks; see local_launch.h.
#include "distributed/local_launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "core/error.h"

namespace grpo::distributed {
namespace {

volatile sig_atomic_t received_signal = 0;

extern "C" void remember_signal(int signal) { received_signal = signal; }

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP};

struct Rank {
  pid_t pid = -1;
  bool running = false;
};

// In the child, between fork and exec: only async-signal-safe calls plus setenv on our own copy.
[[noreturn]] void exec_rank(const LocalLaunch& launch, int rank, int port) {
  setpgid(0, 0);  // its own group: a rank's children are stopped with it
  for (const int s : kForwardedSignals) signal(s, SIG_DFL);
  setenv("RANK", std::to_string(rank).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(launch.processes).c_str(), 1);
  setenv("LOCAL_WORLD_SIZE", std::to_string(launch.processes).c_str(), 1);
  setenv("MASTER_ADDR", "127.0.0.1", 1);
  setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(launch.program.c_str()));
  for (const auto& a : launch.arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(launch.program.c_str(), argv.data());
  const std::string message = "grpo launch: cannot run " + launch.program + ": " + std::strerror(errno) + "\n";
  (void)!write(STDERR_FILENO, message.data(), message.size());
  _exit(127);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

bool failed(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

int running_count(const std::vector<Rank>& ranks) {
  int n = 0;
  for (const auto& r : ranks) n += r.running;
  return n;
}

// Reaps whatever has exited; returns the first failure seen as "rank R ..." ("" if none).
std::string reap(std::vector<Rank>& ranks) {
  std::string failure;
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (!ranks[i].running) continue;
    int status = 0;
    if (waitpid(ranks[i].pid, &status, WNOHANG) != ranks[i].pid) continue;
    ranks[i].running = false;
    if (failed(status) && failure.empty()) failure = "rank " + std::to_string(i) + " " + describe_status(status);
  }
  return failure;
}

void signal_all(const std::vector<Rank>& ranks, int signal) {
  for (const auto& r : ranks)
    if (r.running) kill(-r.pid, signal);
}

// SIGTERM to the ranks still running, SIGKILL to those left after the grace period.
void stop_all(std::vector<Rank>& ranks, std::chrono::milliseconds grace) {
  signal_all(ranks, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (running_count(ranks) > 0 && std::chrono::steady_clock::now() < deadline) {
    reap(ranks);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  signal_all(ranks, SIGKILL);
  for (auto& r : ranks)
    if (r.running) waitpid(r.pid, nullptr, 0), r.running = false;
}

}  // namespace

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  require(fd >= 0, std::string("grpo launch: cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  require(ok, std::string("grpo launch: cannot bind a free port on 127.0.0.1: ") + std::strerror(errno));
  return ntohs(address.sin_port);
}

void launch_local(const LocalLaunch& launch) {
  require(launch.processes >= 1, "grpo launch: --nproc must be at least 1, got " + std::to_string(launch.processes));
  require(access(launch.program.c_str(), X_OK) == 0, "grpo launch: " + launch.program + " is not an executable");
  const int port = free_local_port();
  received_signal = 0;
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction previous[3];
  for (int i = 0; i < 3; ++i) sigaction(kForwardedSignals[i], &action, &previous[i]);

  std::vector<Rank> ranks(static_cast<size_t>(launch.processes));
  std::string failure;
  for (int rank = 0; rank < launch.processes && failure.empty(); ++rank) {
    const pid_t pid = fork();
    if (pid == 0) exec_rank(launch, rank, port);
    if (pid < 0) {
      failure = "could not start rank " + std::to_string(rank) + ": " + std::strerror(errno);
      break;
    }
    setpgid(pid, pid);  // also here: no race with a signal_all before the child's own setpgid
    ranks[static_cast<size_t>(rank)] = {pid, true};
  }
  int forwarded = 0;
  auto give_up = std::chrono::steady_clock::time_point::max();
  while (failure.empty() && running_count(ranks) > 0 && std::chrono::steady_clock::now() < give_up) {
    if (received_signal != 0 && forwarded == 0) {
      forwarded = received_signal;
      signal_all(ranks, forwarded);
      give_up = std::chrono::steady_clock::now() + launch.grace;  // then stop_all's SIGTERM, SIGKILL
    }
    failure = reap(ranks);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int still_running = running_count(ranks);
  stop_all(ranks, launch.grace);
  for (int i = 0; i < 3; ++i) sigaction(kForwardedSignals[i], &previous[i], nullptr);
  if (forwarded != 0)
    throw Error(std::string("grpo launch: received ") + strsignal(forwarded) + ", forwarded to the " +
                std::to_string(launch.processes) + " ranks" + (failure.empty() ? "" : "; " + failure));
  if (!failure.empty())
    throw Error("grpo launch: " + failure + (still_running > 0 ? "; stopped the other " + std::to_string(still_running) +
                                                                     " rank(s)"
                                                               : ""));
}

}  // namespace grpo::distributed
