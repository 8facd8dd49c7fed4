// One long-lived child process that the `external` reward talks to over its stdin and stdout,
// one line at a time. Spawned with fork/exec (no shell) in a process group of its own, with
// PR_SET_PDEATHSIG so it dies with grpo; its stderr is read whenever grpo waits on it and each
// line is logged, so a chatty worker can never block on a full pipe while grpo waits for it.
// Every wait has a deadline. It knows nothing about JSON or rewards (external_reward.cpp).
// Not thread-safe: one thread uses a WorkerProcess at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace grpo::rewards {

// The absolute path of an executable: `program` itself when it has a '/', else the first match
// on PATH. Throws grpo::Error naming `program` when there is none or it is not executable.
std::string resolve_executable(const std::string& program);

class WorkerProcess {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Io { kOk, kTimedOut, kClosed };

  // argv[0] must be an absolute path (resolve_executable); `label` prefixes logged stderr lines.
  WorkerProcess(std::vector<std::string> argv, std::string label);
  ~WorkerProcess();  // closes stdin, gives the worker 200 ms to exit, then kills and reaps it
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Throws grpo::Error when the process cannot be created or its exec fails.
  void start();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Closes the worker's stdin: the protocol's signal to finish and exit.
  void close_input();
  // Writes all of `data` to the worker's stdin; `closed` when the worker no longer reads it.
  Io write(const std::string& data, Clock::time_point deadline);
  // The next line of stdout without its '\n'; `closed` at end of file. A line longer than
  // kMaxLineBytes is returned cut at that length.
  Io read_line(std::string& line, Clock::time_point deadline);
  // SIGKILLs the process group, reaps the worker and says how it ended ("exited with status 3",
  // "killed by signal 9 (Killed)"). Waits up to `grace` first for a worker already on its way out.
  std::string kill_and_reap(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  static constexpr size_t kMaxLineBytes = 16u << 20;

 private:
  void close_pipes();
  void log_stderr(bool flush_partial);

  std::vector<std::string> argv_;
  std::string label_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1, stdout_fd_ = -1, stderr_fd_ = -1;
  std::string stdout_buffer_, stderr_buffer_;
  bool skipping_long_line_ = false;  // the stderr line in progress was already logged, cut
};

}  // namespace grpo::rewards
