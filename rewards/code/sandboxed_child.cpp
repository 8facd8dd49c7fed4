// One sandboxed child, parent side; see sandboxed_child.h. Every buffer the child needs is
// prepared before the fork (the caller is multithreaded; see sandbox_child.h).
#include "rewards/code/sandboxed_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "core/error.h"
#include "core/filesystem.h"
#include "rewards/code/sandbox_child.h"
#include "rewards/code/seccomp_filter.h"

namespace grpo::rewards::detail {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// SIGPIPE from writing to a program that closed its stdin must not kill the caller. Blocked in
// this thread only while the child is fed, and any pending one is consumed before unblocking.
struct SigpipeBlock {
  sigset_t old;
  SigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old);
  }
  ~SigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    const timespec zero = {0, 0};
    while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
};

const char* kStepNames[] = {"", "wire stdio", "unshare namespaces", "write id maps", "make mounts private",
                            "bind the working directory", "make the working directory writable", "chdir",
                            "fork the namespace init", "drop privileges", "set rlimits", "set no_new_privs",
                            "install seccomp", "exec"};

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw Error(std::string("sandbox: pipe failed: ") + strerror(errno));
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_fd(read);
    close_fd(write);
  }
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int release_read() { return std::exchange(read, -1); }
  int release_write() { return std::exchange(write, -1); }
};

struct CStrings {
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  explicit CStrings(std::vector<std::string> items) : storage(std::move(items)) {
    for (auto& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
};

void write_files(const std::string& dir, const std::map<std::string, std::string>& files, unsigned uid) {
  for (const auto& [name, content] : files) {
    if (name.empty() || name.find('/') != std::string::npos) throw Error("sandbox: bad file name '" + name + "'");
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    if (geteuid() == 0 && chown(path.c_str(), uid, uid) != 0) throw Error("sandbox: chown failed for " + path);
  }
}

std::string make_workdir(const std::map<std::string, std::string>& files, unsigned uid) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/grpo-sandbox-XXXXXX";
  if (!mkdtemp(pattern.data())) throw Error("sandbox: cannot create a temporary directory: " + std::string(strerror(errno)));
  try {
    write_files(pattern, files, uid);
    if (geteuid() == 0 && chown(pattern.c_str(), uid, uid) != 0) throw Error("sandbox: chown failed for " + pattern);
  } catch (...) {
    try_remove_tree(pattern);
    throw;
  }
  return pattern;
}

void remove_workdir(const std::string& dir) {
  std::error_code ec;
  // The program may have removed write permission from its own subdirectories.
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) fs::permissions(it->path(), fs::perms::owner_all, ec);
  }
  try_remove_tree(dir);
}

// Reads what is available from `fd` into `out`, up to `cap` bytes kept; false at EOF.
bool drain(int fd, std::string& out, size_t cap, bool& over) {
  char buf[65536];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EINTR || errno == EAGAIN);
  const size_t keep = out.size() < cap ? std::min(static_cast<size_t>(n), cap - out.size()) : 0;
  out.append(buf, keep);
  if (keep < static_cast<size_t>(n)) over = true;
  return true;
}

struct rlimit limit_of(unsigned long long value) { return {static_cast<rlim_t>(value), static_cast<rlim_t>(value)}; }

}  // namespace

SandboxedChild::SandboxedChild(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                               const std::map<std::string, std::string>& files, const SandboxLimits& limits, unsigned uid)
    : limits_(limits), uid_(uid), workdir_(make_workdir(files, uid)) {
  try {
    start(argv, env);
  } catch (...) {
    remove_workdir(workdir_);
    throw;
  }
}

void SandboxedChild::start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  std::vector<std::string> environment = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp",
                                          "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"};
  for (const auto& [k, v] : env) environment.push_back(k + "=" + v);
  CStrings c_argv(argv), c_envp(std::move(environment));
  const std::string uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1\n";
  const std::string gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1\n";

  Pipe in, out, err, setup;
  const auto& filter = seccomp_program();
  ChildPlan plan{};
  plan.workdir = workdir_.c_str();
  plan.argv = c_argv.pointers.data();
  plan.envp = c_envp.pointers.data();
  plan.stdin_fd = in.read;
  plan.stdout_fd = out.write;
  plan.stderr_fd = err.write;
  plan.error_fd = setup.write;
  plan.use_namespaces = Sandbox::namespaces_available();
  plan.as_root = geteuid() == 0;
  plan.uid = uid_;
  plan.uid_map = uid_map.c_str();
  plan.gid_map = gid_map.c_str();
  plan.cpu = limit_of(static_cast<unsigned long long>(std::max(1, limits_.cpu_seconds)));
  plan.memory = limit_of(limits_.memory_bytes);
  plan.processes = limit_of(static_cast<unsigned long long>(std::max(1, limits_.processes)));
  plan.file_size = limit_of(limits_.file_bytes);
  plan.open_files = limit_of(static_cast<unsigned long long>(std::max(8, limits_.open_files)));
  plan.seccomp_filter = filter.empty() ? nullptr : filter.data();
  plan.seccomp_length = static_cast<unsigned short>(filter.size());

  pid_ = fork();
  if (pid_ < 0) throw Error(std::string("sandbox: fork failed: ") + strerror(errno));
  if (pid_ == 0) run_child(plan);
  setpgid(pid_, pid_);  // also done by the child; whichever runs first wins the race harmlessly
  stdin_fd_ = in.release_write();
  stdout_fd_ = out.release_read();
  stderr_fd_ = err.release_read();
  setup_fd_ = setup.release_read();
}

SandboxedChild::~SandboxedChild() {
  int status = 0;
  kill_and_reap(&status);
  for (int* fd : {&stdin_fd_, &stdout_fd_, &stderr_fd_, &setup_fd_}) Pipe::close_fd(*fd);
  remove_workdir(workdir_);
}

void SandboxedChild::add_files(const std::map<std::string, std::string>& files) { write_files(workdir_, files, uid_); }

void SandboxedChild::kill_and_reap(int* status) {
  if (reaped_) return;
  // Done, over time or over its output: nothing in its group may outlive it.
  kill(-pid_, SIGKILL);
  while (waitpid(pid_, status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

SandboxResult SandboxedChild::finish(const std::string& input, double wall_seconds) {
  SigpipeBlock sigpipe_block;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wall_seconds));
  SandboxResult result;
  size_t written = 0;
  if (input.empty()) Pipe::close_fd(stdin_fd_);
  else fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3] = {{stdout_fd_, POLLIN, 0}, {stderr_fd_, POLLIN, 0}, {stdin_fd_, POLLOUT, 0}};
    if (!out_open) fds[0].fd = -1;
    if (!err_open) fds[1].fd = -1;
    const int ready = poll(fds, 3, static_cast<int>(std::min<long long>(left, 100)));
    if (ready < 0 && errno != EINTR) break;
    if (fds[0].revents) out_open = drain(stdout_fd_, result.stdout_text, limits_.output_bytes, result.output_limit);
    if (fds[1].revents) err_open = drain(stderr_fd_, result.stderr_text, limits_.output_bytes, result.output_limit);
    if (fds[2].revents & (POLLERR | POLLHUP)) {
      Pipe::close_fd(stdin_fd_);
    } else if (fds[2].revents & POLLOUT) {
      const ssize_t n = ::write(stdin_fd_, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN) || written == input.size()) Pipe::close_fd(stdin_fd_);
    }
    if (result.output_limit) break;
  }
  int status = 0;
  kill_and_reap(&status);
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status) && !result.timed_out && !result.output_limit) result.signal = WTERMSIG(status);
  int failure[2] = {0, 0};
  if (::read(setup_fd_, failure, sizeof failure) == static_cast<ssize_t>(sizeof failure) && failure[0] > 0 &&
      failure[0] < static_cast<int>(std::size(kStepNames))) {
    result.setup_error = std::string(kStepNames[failure[0]]) + ": " + strerror(failure[1]);
  }
  return result;
}

}  // namespace grpo::rewards::detail
