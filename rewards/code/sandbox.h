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
// Warm children (warm > 0): the interpreter's start-up is moved off the critical path. The
// sandbox keeps `warm` children ready, each started exactly as above (same namespaces, rlimits,
// seccomp, uid, private directory) but running a trusted runner (warm_runner.h) that waits for
// one program, runs it as `python3 -I` would, and exits; a background thread replaces each
// child used. One program per process, as without warm children, so no program ever shares a
// process, directory, PID namespace or uid with another. Only programs run as
// {python, "-I", script or -c code, ...} with the sandbox's python use them; others start cold.
// The wall-clock limit counts from when the program is handed over; the CPU limit includes the
// runner's start-up, as it includes the interpreter's start-up without warm children.
// It is not a VM: a kernel exploit escapes it, and without namespaces the program can read
// whatever the user can. isolation() says which layers are active on this machine.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grpo::rewards {

namespace detail {
class SandboxedChild;
}

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

// Runs up to `slots` programs at once; run() blocks while all slots are busy. With warm > 0,
// keeps that many children of `warm_python` (default sandbox_python()) started ahead.
class Sandbox {
 public:
  explicit Sandbox(SandboxLimits limits = {}, size_t slots = 0, size_t warm = 0, std::string warm_python = "");
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  SandboxResult run(const SandboxProgram& program);
  const SandboxLimits& limits() const { return limits_; }
  size_t slots() const { return slots_; }
  size_t warm() const { return warm_target_; }
  // On the command line of every warm child (and whatever it forks); "" without warm children.
  const std::string& warm_tag() const { return warm_tag_; }
  // Which layers are active here, e.g. "rlimits, process group, namespaces(pid,net,mount), seccomp".
  static std::string isolation();
  static bool namespaces_available();

 private:
  SandboxResult run_cold(const SandboxProgram& program);
  SandboxResult run_warm(const SandboxProgram& program);
  void keep_warm();  // the starter thread
  unsigned take_uid();
  void return_uid(unsigned uid);

  SandboxLimits limits_;
  size_t slots_;
  std::mutex mutex_;  // guards everything below
  std::condition_variable slot_free_, warm_ready_, warm_wanted_;
  size_t busy_ = 0;
  // When run as root each live child has a uid of its own (slots + warm of them), so
  // RLIMIT_NPROC counts only that child's processes and nothing they write is root's.
  std::vector<unsigned> free_uids_;
  size_t warm_target_;
  std::string warm_python_, warm_tag_;
  std::deque<std::unique_ptr<detail::SandboxedChild>> warm_children_;
  std::string warm_error_;  // the starter's last failure, handed to the next run()
  bool stopping_ = false;
  std::thread starter_;
};

// The Python interpreter the sandbox runs: $GRPO_SANDBOX_PYTHON, else /usr/bin/python3, else
// python3 on PATH (resolved to an absolute path; it must be readable by the sandbox user).
std::string sandbox_python();

}  // namespace grpo::rewards
