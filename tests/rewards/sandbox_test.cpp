// The sandbox attack suite: each hostile program must be contained within its limits, come
// back as a failure (not ok) where the program itself can tell, and leave this process and the
// machine as they were: no surviving processes, no files outside the sandbox, no leaked fds.
// Limits are short so the whole suite takes seconds.
#include <gtest/gtest.h>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "rewards/code/sandbox.h"

namespace grpo::rewards {
namespace {

SandboxLimits short_limits() {
  SandboxLimits l;
  l.wall_seconds = 3.0;
  l.cpu_seconds = 1;
  l.memory_bytes = size_t{512} << 20;
  l.processes = 16;
  l.output_bytes = size_t{64} << 10;
  return l;
}

int open_fd_count() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (d && readdir(d)) ++n;
  if (d) closedir(d);
  return n;
}

// Processes whose command line contains `marker`, waiting up to 2 s for stragglers to die.
int survivors(const std::string& marker) {
  for (int attempt = 0;; ++attempt) {
    int found = 0;
    DIR* d = opendir("/proc");
    while (dirent* e = d ? readdir(d) : nullptr) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
      std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (cmdline.find(marker) != std::string::npos) ++found;
    }
    if (d) closedir(d);
    if (found == 0 || attempt >= 20) return found;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

class SandboxAttack : public ::testing::Test {
 protected:
  SandboxResult attack(const std::string& code, SandboxLimits limits = short_limits()) {
    Sandbox sandbox(limits, 2);
    marker_ = "grpo-attack-" + std::to_string(getpid()) + "-" + std::to_string(counter_++);
    SandboxProgram program;
    program.argv = {sandbox_python(), "-I", "main.py", marker_};
    program.files = {{"main.py", code}};
    return sandbox.run(program);
  }
  void SetUp() override { fds_before_ = open_fd_count(); }
  void TearDown() override {
    EXPECT_EQ(survivors(marker_), 0) << "processes outlived the sandbox";
    EXPECT_EQ(open_fd_count(), fds_before_) << "file descriptors leaked";
  }
  std::string marker_;
  int fds_before_ = 0;
  static inline int counter_ = 0;
};

TEST_F(SandboxAttack, TrivialProgramRuns) {
  const auto r = attack("print('hello')");
  EXPECT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "hello\n");
}

TEST_F(SandboxAttack, ForkBombIsContained) {
  const auto r = attack(
      "import os\n"
      "while True:\n"
      "    try:\n"
      "        os.fork()\n"
      "    except OSError:\n"
      "        pass\n");
  EXPECT_FALSE(r.ok());
  EXPECT_LT(r.seconds, 5.0);
}

TEST_F(SandboxAttack, InfiniteLoopHitsTheCpuLimit) {
  const auto r = attack("while True:\n    pass\n");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.timed_out || r.signal == SIGXCPU || r.signal == SIGKILL) << r.describe();
  EXPECT_LT(r.seconds, 5.0);
}

TEST_F(SandboxAttack, MemoryBombFailsInsideTheSandbox) {
  SandboxLimits limits = short_limits();
  limits.memory_bytes = size_t{256} << 20;  // small, so the bomb hits it before the wall clock
  const auto r = attack("chunks = []\nwhile True:\n    chunks.append(bytearray(32 << 20))\n", limits);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.stderr_text.find("MemoryError"), std::string::npos) << r.describe() << r.stderr_text;
}

TEST_F(SandboxAttack, WritingOutsideItsDirectoryFails) {
  std::string dir = std::string(GRPO_BINARY_DIR) + "/sandbox-attack-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir.data()));
  chmod(dir.c_str(), 0777);  // world-writable: only the read-only mount can stop this
  const auto r = attack("open('" + dir + "/pwned', 'w').write('x')\nopen('../pwned', 'w').write('x')\n");
  struct stat st;
  const bool written = stat((dir + "/pwned").c_str(), &st) == 0;
  unlink((dir + "/pwned").c_str());
  rmdir(dir.c_str());
  if (!Sandbox::namespaces_available()) GTEST_SKIP() << "no mount namespace here: " << Sandbox::isolation();
  EXPECT_FALSE(written);
  EXPECT_FALSE(r.ok()) << r.stdout_text;
}

TEST_F(SandboxAttack, ReadingTheHostHomeAndTmpFails) {
  char secret[] = "/tmp/grpo-secret-XXXXXX";
  const int fd = mkstemp(secret);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "hunter2", 7), 7);
  close(fd);
  chmod(secret, 0644);
  const char* home = getenv("HOME");
  const auto r = attack("import os\nprint(open('" + std::string(secret) + "').read())\nassert os.listdir('" +
                        std::string(home ? home : "/root") + "')\n");
  unlink(secret);
  if (!Sandbox::namespaces_available() && geteuid() != 0) GTEST_SKIP() << "no isolation of files: " << Sandbox::isolation();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.stdout_text.find("hunter2"), std::string::npos);
}

TEST_F(SandboxAttack, OpeningASocketFails) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto r = attack("import socket\ns = socket.create_connection(('127.0.0.1', " + std::to_string(ntohs(addr.sin_port)) +
                        "), timeout=1)\ns.sendall(b'leak')\n");
  const int accepted = accept(listener, nullptr, nullptr);
  if (accepted >= 0) close(accepted);
  close(listener);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(accepted, 0) << "the sandbox reached a host socket";
}

TEST_F(SandboxAttack, PrintingAGigabyteIsCutOff) {
  const auto r = attack("import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.output_limit);
  EXPECT_EQ(r.stdout_text.size(), size_t{64} << 10);
  EXPECT_LT(r.seconds, 3.0);
}

TEST_F(SandboxAttack, IgnoringSigtermDoesNotOutliveTheTimeout) {
  SandboxLimits limits = short_limits();
  limits.wall_seconds = 1.0;
  const auto r = attack("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(100)\n", limits);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(r.seconds, 2.5);
}

TEST_F(SandboxAttack, DaemonDoesNotOutliveTheProgram) {
  // Double fork and setsid: the grandchild tries to leave the process group and keep running.
  const auto r = attack(
      "import os, time\n"
      "if os.fork() == 0:\n"
      "    try:\n"
      "        os.setsid()\n"
      "    except OSError:\n"
      "        pass\n"
      "    if os.fork() == 0:\n"
      "        time.sleep(30)\n"
      "    os._exit(0)\n"
      "time.sleep(0.2)\n");
  EXPECT_LT(r.seconds, 3.5);
  // TearDown checks that nothing carrying the marker survives.
}

TEST(Sandbox, ReportsItsIsolation) {
  const std::string s = Sandbox::isolation();
  EXPECT_NE(s.find("rlimits"), std::string::npos);
  RecordProperty("isolation", s);
}

TEST(Sandbox, StdinReachesTheProgram) {
  Sandbox sandbox(short_limits(), 1);
  SandboxProgram p;
  p.argv = {sandbox_python(), "-I", "-c", "import sys; print(sum(int(x) for x in sys.stdin.read().split()))"};
  p.stdin_text = "1 2 3\n4\n";
  const auto r = sandbox.run(p);
  EXPECT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "10\n");
}

}  // namespace
}  // namespace grpo::rewards
