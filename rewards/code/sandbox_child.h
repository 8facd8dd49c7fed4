// The child side of the sandbox: everything between fork() and execve(). The parent is
// multithreaded, so this code only makes system calls on memory prepared before the fork (no
// malloc, no locks, no C++ exceptions). Internal to rewards/code.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <vector>

struct sock_filter;

namespace grpo::rewards::detail {

struct ChildPlan {
  const char* workdir;
  char* const* argv;
  char* const* envp;
  int stdin_fd, stdout_fd, stderr_fd;  // pipe ends for the child
  int error_fd;                        // CLOEXEC pipe: setup failures are written here
  bool use_namespaces;
  bool as_root;                        // drop to `uid` after the namespace setup
  unsigned uid;
  const char* uid_map;                 // "<uid> <uid> 1\n" for the user namespace, when not root
  const char* gid_map;
  struct rlimit cpu, memory, processes, file_size, open_files;
  const sock_filter* seccomp_filter;   // null when built without libseccomp
  unsigned short seccomp_length;
};

// Never returns: execs the program or _exit(127) after writing the failing step to error_fd.
[[noreturn]] void run_child(const ChildPlan& plan);

// Does unshare(2) of the namespaces we use work here? Forks a probe; safe to call any time.
bool probe_namespaces();

}  // namespace grpo::rewards::detail
