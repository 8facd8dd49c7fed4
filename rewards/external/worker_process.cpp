// Spawning, talking to and reaping one worker process; see worker_process.h. The worker's stdin
// is one end of a Unix socket pair rather than a pipe so that writing to a worker that died is
// an EPIPE from send(MSG_NOSIGNAL), never a SIGPIPE that would kill grpo.
#include "rewards/external/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/error.h"
#include "core/logging.h"

namespace grpo::rewards {
namespace {

constexpr size_t kLoggedLineBytes = 500;

bool is_executable_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int remaining_ms(WorkerProcess::Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - WorkerProcess::Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count() + 1, 60000));
}

// Child side between fork and exec: async-signal-safe calls only. Reports a failed exec's errno
// through `status_fd` (close-on-exec, so a successful exec closes it with nothing written).
[[noreturn]] void exec_child(char* const* argv, int in_fd, int out_fd, int err_fd, int status_fd, pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
    const int e = errno;
    (void)!::write(status_fd, &e, sizeof e);
    _exit(127);
  }
  execv(argv[0], argv);
  const int e = errno;
  (void)!::write(status_fd, &e, sizeof e);
  _exit(127);
}

}  // namespace

std::string resolve_executable(const std::string& program) {
  if (program.empty()) throw Error("the command is empty");
  if (program.find('/') != std::string::npos) {
    if (!is_executable_file(program)) throw Error("command '" + program + "' is not an executable file");
    return program;
  }
  const char* path = std::getenv("PATH");
  const std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + program;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  throw Error("command '" + program + "' was not found on PATH (" + dirs + ")");
}

WorkerProcess::WorkerProcess(std::vector<std::string> argv, std::string label)
    : argv_(std::move(argv)), label_(std::move(label)) {}

WorkerProcess::~WorkerProcess() {
  if (running()) {
    close_input();
    kill_and_reap(std::chrono::milliseconds(200));
  }
}

void WorkerProcess::close_input() { close_fd(stdin_fd_); }

void WorkerProcess::start() {
  int in[2], out[2], err[2], status[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) throw Error(std::string("socketpair failed: ") + strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0) {
    throw Error(std::string("pipe failed: ") + strerror(errno));
  }
  std::vector<char*> c_argv;
  for (auto& a : argv_) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) exec_child(c_argv.data(), in[1], out[1], err[1], status[1], parent);
  for (int fd : {in[1], out[1], err[1], status[1]}) ::close(fd);
  if (pid < 0) {
    for (int fd : {in[0], out[0], err[0], status[0]}) ::close(fd);
    throw Error(std::string("fork failed: ") + strerror(errno));
  }
  setpgid(pid, pid);  // also done by the child; whichever runs first wins harmlessly
  int exec_errno = 0;
  ssize_t n;
  do n = ::read(status[0], &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  ::close(status[0]);
  pid_ = pid;
  stdin_fd_ = in[0];
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
  stdout_buffer_.clear();
  stderr_buffer_.clear();
  skipping_long_line_ = false;
  for (int fd : {stdin_fd_, stdout_fd_, stderr_fd_}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    kill_and_reap();
    throw Error("cannot run '" + argv_[0] + "': " + strerror(exec_errno));
  }
}

WorkerProcess::Io WorkerProcess::write(const std::string& data, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(stdin_fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return Io::kClosed;
    // Full: keep draining stdout and stderr, so a worker that answers while it still reads
    // cannot wedge on its own full pipe while grpo waits to write.
    const bool room = stdout_buffer_.size() < kMaxLineBytes;  // full: stop reading rather than spin
    pollfd fds[3] = {{stdin_fd_, POLLOUT, 0}, {room ? stdout_fd_ : -1, POLLIN, 0}, {stderr_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 3, remaining_ms(deadline));
    if (ready < 0 && errno != EINTR) return Io::kClosed;
    if (ready == 0 && Clock::now() >= deadline) return Io::kTimedOut;
    if (fds[1].revents) {
      char buf[65536];
      const ssize_t got = ::read(stdout_fd_, buf, sizeof buf);
      if (got > 0) stdout_buffer_.append(buf, static_cast<size_t>(got));
    }
    if (fds[2].revents) log_stderr(false);
  }
  return Io::kOk;
}

WorkerProcess::Io WorkerProcess::read_line(std::string& line, Clock::time_point deadline) {
  for (;;) {
    const size_t newline = stdout_buffer_.find('\n');
    if (newline != std::string::npos || stdout_buffer_.size() >= kMaxLineBytes) {
      const size_t length = std::min(newline, kMaxLineBytes);
      line = stdout_buffer_.substr(0, length);
      stdout_buffer_.erase(0, newline == std::string::npos ? length : newline + 1);
      return Io::kOk;
    }
    pollfd fds[2] = {{stdout_fd_, POLLIN, 0}, {stderr_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, remaining_ms(deadline));
    if (ready < 0 && errno != EINTR) return Io::kClosed;
    if (ready == 0 && Clock::now() >= deadline) return Io::kTimedOut;
    if (fds[1].revents) log_stderr(false);
    if (!fds[0].revents) continue;
    char buf[65536];
    const ssize_t got = ::read(stdout_fd_, buf, sizeof buf);
    if (got > 0) stdout_buffer_.append(buf, static_cast<size_t>(got));
    else if (got == 0 || (errno != EINTR && errno != EAGAIN)) return Io::kClosed;
  }
}

void WorkerProcess::log_stderr(bool flush_partial) {
  if (stderr_fd_ < 0) return;
  char buf[65536];
  for (;;) {
    const ssize_t got = ::read(stderr_fd_, buf, sizeof buf);
    if (got > 0) {
      stderr_buffer_.append(buf, static_cast<size_t>(got));
      continue;
    }
    if (got == 0) {
      close_fd(stderr_fd_);
      flush_partial = true;
    } else if (errno == EINTR) {
      continue;
    }
    break;
  }
  const std::string prefix = label_ + " [pid " + std::to_string(pid_) + "] ";
  size_t start = 0;
  for (size_t end; (end = stderr_buffer_.find('\n', start)) != std::string::npos; start = end + 1) {
    if (!skipping_long_line_) logging::info(prefix + stderr_buffer_.substr(start, std::min(end - start, kLoggedLineBytes)));
    skipping_long_line_ = false;
  }
  stderr_buffer_.erase(0, start);
  if (skipping_long_line_) {
    stderr_buffer_.clear();
  } else if ((flush_partial && !stderr_buffer_.empty()) || stderr_buffer_.size() > kLoggedLineBytes) {
    // A line this long is logged cut, once; the rest of it is dropped up to its newline.
    logging::info(prefix + stderr_buffer_.substr(0, kLoggedLineBytes));
    skipping_long_line_ = !flush_partial;
    stderr_buffer_.clear();
  }
}

std::string WorkerProcess::kill_and_reap(std::chrono::milliseconds grace) {
  if (!running()) return "not running";
  // Waits without reaping, so the pid (and with it the process group id) cannot be reused
  // before the group is killed.
  const auto until = Clock::now() + grace;
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0) break;
    if (Clock::now() >= until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid_, SIGKILL);  // the whole group: a worker's own children die with it
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t done;
  while ((done = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  log_stderr(true);
  close_pipes();
  pid_ = -1;
  if (done < 0) return "could not be reaped";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "ended";
}

void WorkerProcess::close_pipes() {
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

}  // namespace grpo::rewards
