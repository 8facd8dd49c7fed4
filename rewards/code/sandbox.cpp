// Parent side of the sandbox: prepares the working directory and every buffer the child needs,
// forks, feeds stdin, collects capped output under a wall-clock deadline, kills the process
// group, reaps, and removes the directory. See sandbox.h for the protections.
#include "core/filesystem.h"
#include "rewards/code/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "rewards/code/sandbox_child.h"
#include "rewards/code/seccomp_filter.h"

namespace grpo::rewards {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Programs sandboxed by root run as an unprivileged uid of their own per slot, so RLIMIT_NPROC
// counts only that slot's processes and nothing they write is root's. The uid mixes in the pid
// so that two grpo processes on one machine do not share uids.
constexpr unsigned kUidBase = 1500000000u;

unsigned first_uid_of_new_sandbox(size_t slots) {
  static std::atomic<unsigned> next{0};
  const unsigned offset = next.fetch_add(static_cast<unsigned>(slots)) % 4096u;
  return kUidBase + ((static_cast<unsigned>(getpid()) & 0xFFFFu) << 12) + offset;
}

// SIGPIPE from writing to a program that closed its stdin must not kill the caller. Blocked in
// this thread only while the sandbox runs, and any pending one is consumed before unblocking.
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
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

struct CStrings {
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  explicit CStrings(std::vector<std::string> items) : storage(std::move(items)) {
    for (auto& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
};

std::string make_workdir(const SandboxProgram& program, bool as_root, unsigned uid) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/grpo-sandbox-XXXXXX";
  if (!mkdtemp(pattern.data())) throw Error("sandbox: cannot create a temporary directory: " + std::string(strerror(errno)));
  for (const auto& [name, content] : program.files) {
    if (name.empty() || name.find('/') != std::string::npos) throw Error("sandbox: bad file name '" + name + "'");
    std::ofstream(pattern + "/" + name, std::ios::binary) << content;
  }
  if (as_root) {
    for (const auto& [name, content] : program.files) {
      if (chown((pattern + "/" + name).c_str(), uid, uid) != 0) throw Error("sandbox: chown failed");
    }
    if (chown(pattern.c_str(), uid, uid) != 0) throw Error("sandbox: chown failed");
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

std::string SandboxResult::describe() const {
  if (!setup_error.empty()) return "sandbox error: " + setup_error;
  if (timed_out) return "timed out";
  if (output_limit) return "output limit exceeded";
  if (signal) return std::string("killed by signal ") + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit " + std::to_string(exit_code);
}

std::string sandbox_python() {
  if (const char* env = std::getenv("GRPO_SANDBOX_PYTHON"); env && *env) return env;
  if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (size_t start = 0; start <= p.size();) {
      const size_t end = std::min(p.find(':', start), p.size());
      const std::string candidate = p.substr(start, end - start) + "/python3";
      if (end > start && access(candidate.c_str(), X_OK) == 0) return fs::canonical(candidate).string();
      start = end + 1;
    }
  }
  throw Error("sandbox: no python3 found; set GRPO_SANDBOX_PYTHON");
}

bool Sandbox::namespaces_available() {
  static const bool available = detail::probe_namespaces();
  return available;
}

std::string Sandbox::isolation() {
  std::string s = "process group, rlimits, private directory";
  if (geteuid() == 0) s += ", unprivileged uid";
  if (namespaces_available()) s += ", namespaces (user when not root, pid, net, mount, ipc)";
  if (!detail::seccomp_program().empty()) s += ", seccomp";
  return s;
}

Sandbox::Sandbox(SandboxLimits limits, size_t slots) : limits_(limits) {
  if (slots == 0) slots = std::max(1u, std::thread::hardware_concurrency());
  first_uid_ = first_uid_of_new_sandbox(slots);
  for (size_t i = 0; i < slots; ++i) free_.push_back(static_cast<int>(slots - 1 - i));
  namespaces_available();
  detail::seccomp_program();
}

int Sandbox::acquire_slot() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return !free_.empty(); });
  const int slot = free_.back();
  free_.pop_back();
  ++busy_;
  return slot;
}

void Sandbox::release_slot(int slot) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(slot);
    --busy_;
  }
  cv_.notify_one();
}

SandboxResult Sandbox::run(const SandboxProgram& program) {
  if (program.argv.empty() || program.argv[0].empty() || program.argv[0][0] != '/') {
    throw Error("sandbox: argv[0] must be an absolute path");
  }
  const int slot = acquire_slot();
  struct SlotGuard {
    Sandbox* self;
    int slot;
    ~SlotGuard() { self->release_slot(slot); }
  } slot_guard{this, slot};

  const bool as_root = geteuid() == 0;
  const unsigned uid = as_root ? first_uid_ + static_cast<unsigned>(slot) : geteuid();
  const std::string workdir = make_workdir(program, as_root, uid);
  struct DirGuard {
    std::string dir;
    ~DirGuard() { remove_workdir(dir); }
  } dir_guard{workdir};

  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
                                  "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"};
  for (const auto& [k, v] : program.env) env.push_back(k + "=" + v);
  CStrings argv(program.argv), envp(std::move(env));
  const std::string uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1\n";
  const std::string gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1\n";

  SigpipeBlock sigpipe_block;
  Pipe in, out, err, setup;
  const auto& filter = detail::seccomp_program();
  detail::ChildPlan plan{};
  plan.workdir = workdir.c_str();
  plan.argv = argv.pointers.data();
  plan.envp = envp.pointers.data();
  plan.stdin_fd = in.read;
  plan.stdout_fd = out.write;
  plan.stderr_fd = err.write;
  plan.error_fd = setup.write;
  plan.use_namespaces = namespaces_available();
  plan.as_root = as_root;
  plan.uid = uid;
  plan.uid_map = uid_map.c_str();
  plan.gid_map = gid_map.c_str();
  plan.cpu = limit_of(static_cast<unsigned long long>(std::max(1, limits_.cpu_seconds)));
  plan.memory = limit_of(limits_.memory_bytes);
  plan.processes = limit_of(static_cast<unsigned long long>(std::max(1, limits_.processes)));
  plan.file_size = limit_of(limits_.file_bytes);
  plan.open_files = limit_of(static_cast<unsigned long long>(std::max(8, limits_.open_files)));
  plan.seccomp_filter = filter.empty() ? nullptr : filter.data();
  plan.seccomp_length = static_cast<unsigned short>(filter.size());

  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) throw Error(std::string("sandbox: fork failed: ") + strerror(errno));
  if (pid == 0) detail::run_child(plan);
  setpgid(pid, pid);  // also done by the child; whichever runs first wins the race harmlessly
  in.close_read();
  out.close_write();
  err.close_write();
  setup.close_write();

  SandboxResult result;
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits_.wall_seconds));
  size_t stdin_written = 0;
  if (program.stdin_text.empty()) in.close_write();
  else fcntl(in.write, F_SETFL, O_NONBLOCK);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3] = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0}, {in.write, POLLOUT, 0}};
    if (!out_open) fds[0].fd = -1;
    if (!err_open) fds[1].fd = -1;
    const int ready = poll(fds, 3, static_cast<int>(std::min<long long>(left, 100)));
    if (ready < 0 && errno != EINTR) break;
    if (fds[0].revents) out_open = drain(out.read, result.stdout_text, limits_.output_bytes, result.output_limit);
    if (fds[1].revents) err_open = drain(err.read, result.stderr_text, limits_.output_bytes, result.output_limit);
    if (fds[2].revents & (POLLERR | POLLHUP)) {
      in.close_write();
    } else if (fds[2].revents & POLLOUT) {
      const ssize_t n = ::write(in.write, program.stdin_text.data() + stdin_written, program.stdin_text.size() - stdin_written);
      if (n > 0) stdin_written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) in.close_write();
      if (stdin_written == program.stdin_text.size()) in.close_write();
    }
    if (result.output_limit) break;
  }
  // The program is done, over time or over its output: nothing in its group may outlive it.
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status) && !result.timed_out && !result.output_limit) result.signal = WTERMSIG(status);
  int failure[2] = {0, 0};
  if (::read(setup.read, failure, sizeof failure) == static_cast<ssize_t>(sizeof failure) && failure[0] > 0 &&
      failure[0] < static_cast<int>(std::size(kStepNames))) {
    result.setup_error = std::string(kStepNames[failure[0]]) + ": " + strerror(failure[1]);
  }
  return result;
}

}  // namespace grpo::rewards
