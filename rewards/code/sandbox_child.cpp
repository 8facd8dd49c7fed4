// Child-side sandbox setup; see sandbox_child.h. Order matters: namespaces before mounts,
// mounts before dropping privileges, rlimits and seccomp last so the setup itself is not
// limited by them.
#include "rewards/code/sandbox_child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace grpo::rewards::detail {
namespace {

enum Step : int {
  kStepFds = 1, kStepUnshare, kStepIdMaps, kStepMountPrivate, kStepBindWorkdir, kStepWorkdirWritable,
  kStepChdir, kStepFork, kStepDropPrivileges, kStepRlimit, kStepNoNewPrivs, kStepSeccomp, kStepExec
};

[[noreturn]] void fail(const ChildPlan& plan, int step) {
  const int payload[2] = {step, errno};
  if (write(plan.error_fd, payload, sizeof payload) < 0) _exit(127);
  _exit(127);
}

bool write_file(const char* path, const char* text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == static_cast<ssize_t>(strlen(text));
}

int namespace_flags(bool as_root) {
  const int flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  return as_root ? flags : flags | CLONE_NEWUSER;
}

bool enter_namespaces(bool as_root, const char* uid_map, const char* gid_map) {
  if (unshare(namespace_flags(as_root)) != 0) return false;
  if (as_root) return true;
  return write_file("/proc/self/setgroups", "deny") && write_file("/proc/self/uid_map", uid_map) &&
         write_file("/proc/self/gid_map", gid_map);
}

long mount_setattr_call(const char* path, unsigned flags, unsigned long long set, unsigned long long clear) {
#ifdef SYS_mount_setattr
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = set;
  attr.attr_clr = clear;
  return syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr);
#else
  errno = ENOSYS;
  return -1;
#endif
}

// "/proc/self/fd/<fd>" without snprintf (not async-signal-safe).
void fd_path(int fd, char* out) {
  const char prefix[] = "/proc/self/fd/";
  memcpy(out, prefix, sizeof prefix - 1);
  char digits[12];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0);
  char* p = out + sizeof prefix - 1;
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
}

// Read-only everything, empty tmpfs over the shared scratch places and the homes, and the
// working directory bound writable at /tmp/work (its real path is under the hidden /tmp).
// Only the steps that keep the working directory usable are fatal.
void set_up_mounts(const ChildPlan& plan) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(plan, kStepMountPrivate);
  const int workdir = open(plan.workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (workdir < 0) fail(plan, kStepBindWorkdir);
  if (mount_setattr_call("/", AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) != 0) {
    mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);  // older kernels: top mount only
  }
  for (const char* hidden : {"/tmp", "/var/tmp", "/dev/shm", "/home", "/root", "/run"}) {
    mount("tmpfs", hidden, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777");
  }
  char source[32];
  fd_path(workdir, source);
  if (mkdir("/tmp/work", 0755) != 0 || mount(source, "/tmp/work", nullptr, MS_BIND, nullptr) != 0) {
    fail(plan, kStepBindWorkdir);
  }
  close(workdir);
  if (mount_setattr_call("/tmp/work", 0, 0, MOUNT_ATTR_RDONLY) != 0 && errno != ENOSYS) fail(plan, kStepWorkdirWritable);
  if (chdir("/tmp/work") != 0) fail(plan, kStepChdir);
}

// In a new PID namespace the next child is its init: when it exits the kernel kills every
// process left in the namespace. This process stays outside and relays the exit status.
void become_init_or_relay(const ChildPlan& plan) {
  const pid_t init = fork();
  if (init < 0) fail(plan, kStepFork);
  if (init == 0) return;
  close(plan.error_fd);
  int status = 0;
  while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  signal(sig, SIG_DFL);
  kill(getpid(), sig);
  _exit(128 + sig);
}

void apply_limits(const ChildPlan& plan) {
  const struct rlimit no_core = {0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0 || setrlimit(RLIMIT_CPU, &plan.cpu) != 0 ||
      setrlimit(RLIMIT_AS, &plan.memory) != 0 || setrlimit(RLIMIT_NPROC, &plan.processes) != 0 ||
      setrlimit(RLIMIT_FSIZE, &plan.file_size) != 0 || setrlimit(RLIMIT_NOFILE, &plan.open_files) != 0) {
    fail(plan, kStepRlimit);
  }
}

void wire_fds(const ChildPlan& plan) {
  if (dup2(plan.stdin_fd, 0) < 0 || dup2(plan.stdout_fd, 1) < 0 || dup2(plan.stderr_fd, 2) < 0) fail(plan, kStepFds);
  // Everything else the (multithreaded) parent had open is closed; error_fd is CLOEXEC.
  const unsigned err = static_cast<unsigned>(plan.error_fd);
  bool closed = syscall(SYS_close_range, err + 1, ~0U, 0) == 0;
  if (closed && err > 3) closed = syscall(SYS_close_range, 3U, err - 1, 0) == 0;
  for (int fd = 3; !closed && fd < 65536; ++fd) {
    if (fd != plan.error_fd) close(fd);
  }
}

}  // namespace

void run_child(const ChildPlan& plan) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the forking thread may have had signals blocked
  signal(SIGPIPE, SIG_DFL);
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  wire_fds(plan);
  if (plan.use_namespaces) {
    if (!enter_namespaces(plan.as_root, plan.uid_map, plan.gid_map)) fail(plan, kStepUnshare);
    set_up_mounts(plan);
    become_init_or_relay(plan);
  } else if (chdir(plan.workdir) != 0) {
    fail(plan, kStepChdir);
  }
  if (plan.as_root) {
    if (setgroups(0, nullptr) != 0 || setgid(plan.uid) != 0 || setuid(plan.uid) != 0) fail(plan, kStepDropPrivileges);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // again: fork and setuid both clear it
  apply_limits(plan);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(plan, kStepNoNewPrivs);
  if (plan.seccomp_filter) {
    struct sock_fprog program;
    program.len = plan.seccomp_length;
    program.filter = const_cast<sock_filter*>(plan.seccomp_filter);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) fail(plan, kStepSeccomp);
  }
  execve(plan.argv[0], plan.argv, plan.envp);
  fail(plan, kStepExec);
}

bool probe_namespaces() {
  const bool as_root = geteuid() == 0;
  char uid_map[64], gid_map[64];
  snprintf(uid_map, sizeof uid_map, "%u %u 1\n", geteuid(), geteuid());
  snprintf(gid_map, sizeof gid_map, "%u %u 1\n", getegid(), getegid());
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (!enter_namespaces(as_root, uid_map, gid_map)) _exit(1);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(2);
    const pid_t init = fork();
    if (init < 0) _exit(3);
    if (init == 0) _exit(0);
    int status = 0;
    waitpid(init, &status, 0);
    _exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 4);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace grpo::rewards::detail
