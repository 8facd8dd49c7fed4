// Parent side of one sandboxed child process: creates its private working directory, forks it
// under every protection of sandbox.h (the child side is sandbox_child.h), and later feeds its
// stdin, collects its capped output under a wall-clock deadline, kills its process group, reaps
// it and removes the directory. It does not decide when children start or how many run at once:
// Sandbox (sandbox.h) does, either starting one per program or keeping warm ones ready.
// Internal to rewards/code.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "rewards/code/sandbox.h"

namespace grpo::rewards::detail {

class SandboxedChild {
 public:
  // Writes `files` into a new working directory and forks; returns once the child is forked.
  // `uid` is the unprivileged uid the child runs as when this process is root.
  SandboxedChild(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                 const std::map<std::string, std::string>& files, const SandboxLimits& limits, unsigned uid);
  // Kills the group if it still runs, reaps it and removes the working directory.
  ~SandboxedChild();
  SandboxedChild(const SandboxedChild&) = delete;
  SandboxedChild& operator=(const SandboxedChild&) = delete;

  // Writes more files into the working directory; the running child sees them at once.
  void add_files(const std::map<std::string, std::string>& files);
  // Writes `input` then closes stdin, collects stdout/stderr until both close or `wall_seconds`
  // pass from now, then kills the group and reaps it. Called at most once.
  SandboxResult finish(const std::string& input, double wall_seconds);
  unsigned uid() const { return uid_; }

 private:
  void start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
  void kill_and_reap(int* status);

  SandboxLimits limits_;
  unsigned uid_;
  std::string workdir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdin_fd_ = -1, stdout_fd_ = -1, stderr_fd_ = -1, setup_fd_ = -1;
};

}  // namespace grpo::rewards::detail
