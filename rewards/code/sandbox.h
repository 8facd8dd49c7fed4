// Runs untrusted programs (model-written Python) as child processes under limits:
//   - fork + exec in its own process group; a wall-clock timeout SIGKILLs the whole group;
//   - rlimits on CPU seconds, address space, processes, file size, open files (no core dumps);
//   - a private temporary directory as the working directory, removed afterwards;
//   - when the kernel lets us: new user (if not root), PID, network, mount and IPC namespaces.
//     The PID namespace kills every descendant (daemons included) when the program ends; the
//     network namespace has no interfaces; the mount namespace makes the file system
//     read-only except the working directory, and hides /tmp, /var/tmp, /dev/shm, /home and
//     /root behind empty tmpfs. As root the program also runs under an unprivileged uid;
//   - a seccomp filter (when built with libseccomp) that denies AF_INET/AF_INET6 sockets,
//     leaving the process group (setsid/setpgid), namespaces, mount, ptrace and kernel
//     modules, so the limits hold without namespaces too;
//   - stdout/stderr captured up to a cap; a program that exceeds it is killed.
// It is not a VM: a kernel exploit escapes it, and without namespaces the program can read
// whatever the user can. isolation() says which layers are active on this machine.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace grpo::rewards {

struct SandboxLimits {
  double wall_seconds = 10.0;
  int cpu_seconds = 5;
  size_t memory_bytes = size_t{1} << 30;  // address space
  int processes = 32;
  size_t file_bytes = size_t{16} << 20;
  int open_files = 64;
  size_t output_bytes = size_t{1} << 20;  // per stream
};

struct SandboxProgram {
  std::vector<std::string> argv;                // argv[0] is an absolute path
  std::map<std::string, std::string> files;     // written into the working directory first
  std::map<std::string, std::string> env;       // added to a minimal environment
  std::string stdin_text;
};

struct SandboxResult {
  int exit_code = -1;  // when the program exited normally
  int signal = 0;      // when a signal ended it
  bool timed_out = false;
  bool output_limit = false;
  std::string stdout_text, stderr_text;
  double seconds = 0.0;
  std::string setup_error;  // the sandbox itself failed (not the program)
  bool ok() const { return exit_code == 0 && signal == 0 && !timed_out && !output_limit && setup_error.empty(); }
  std::string describe() const;  // "exit 1", "killed by signal 9", "timed out after 2s", ...
};

// Runs up to `slots` programs at once; run() blocks while all slots are busy.
class Sandbox {
 public:
  explicit Sandbox(SandboxLimits limits = {}, size_t slots = 0);
  SandboxResult run(const SandboxProgram& program);
  const SandboxLimits& limits() const { return limits_; }
  size_t slots() const { return free_.size() + busy_; }
  // Which layers are active here, e.g. "rlimits, process group, namespaces(pid,net,mount), seccomp".
  static std::string isolation();
  static bool namespaces_available();

 private:
  int acquire_slot();
  void release_slot(int slot);

  SandboxLimits limits_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<int> free_;
  size_t busy_ = 0;
  unsigned first_uid_ = 0;  // when run as root: slot i runs as first_uid_ + i
};

// The Python interpreter the sandbox runs: $GRPO_SANDBOX_PYTHON, else /usr/bin/python3, else
// python3 on PATH (resolved to an absolute path; it must be readable by the sandbox user).
std::string sandbox_python();

}  // namespace grpo::rewards
