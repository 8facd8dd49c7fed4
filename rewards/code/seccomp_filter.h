// The seccomp-BPF program the sandbox installs in its child, compiled once with libseccomp in
// the parent (libseccomp allocates, which a child of a multithreaded fork must not do).
// Denied with EPERM/EACCES: AF_INET/AF_INET6 sockets, setsid/setpgid (leaving the process
// group that the timeout kills), unshare/setns/namespace clones, mount, ptrace, bpf,
// perf_event_open, keyctl, kernel modules, kexec, reboot; clone3 reports ENOSYS so libc
// falls back to clone, whose flags can be checked. Everything else is allowed.
#pragma once

#include <linux/filter.h>

#include <vector>

namespace grpo::rewards::detail {

// Empty when grpo.cpp was built without libseccomp.
const std::vector<sock_filter>& seccomp_program();

}  // namespace grpo::rewards::detail
