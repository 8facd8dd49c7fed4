// The sandbox attack suite: each hostile program must be contained within its limits, come
// back as a failure (not ok) where the program itself can tell, and leave this process and the
// machine as they were: no surviving processes, no files outside the sandbox, no leaked fds.
// Limits are short so the whole suite takes seconds. Every attack runs twice: on a child started
// for it (warm 0) and on a warm child started ahead (warm 2), which must contain it the same.
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

// The parameter is the number of warm children.
class SandboxAttack : public ::testing::TestWithParam<size_t> {
 protected:
  SandboxResult attack(const std::string& code, SandboxLimits limits = short_limits()) {
    Sandbox sandbox(limits, 2, GetParam());
    marker_ = "grpo-attack-" + std::to_string(getpid()) + "-" + std::to_string(counter_++);
    warm_tag_ = sandbox.warm_tag();
    SandboxProgram program;
    program.argv = {sandbox_python(), "-I", "main.py", marker_};
    program.files = {{"main.py", code}};
    return sandbox.run(program);
  }
  void SetUp() override { fds_before_ = open_fd_count(); }
  void TearDown() override {
    EXPECT_EQ(survivors(marker_), 0) << "processes outlived the sandbox";
    // A warm child's command line carries the tag, not the program's argv; so do its forks.
    if (!warm_tag_.empty()) EXPECT_EQ(survivors(warm_tag_), 0) << "warm children outlived the sandbox";
    EXPECT_EQ(open_fd_count(), fds_before_) << "file descriptors leaked";
  }
  std::string marker_, warm_tag_;
  int fds_before_ = 0;
  static inline int counter_ = 0;
};

TEST_P(SandboxAttack, TrivialProgramRuns) {
  const auto r = attack("print('hello')");
  EXPECT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "hello\n");
}

TEST_P(SandboxAttack, ForkBombIsContained) {
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

TEST_P(SandboxAttack, InfiniteLoopHitsTheCpuLimit) {
  const auto r = attack("while True:\n    pass\n");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.timed_out || r.signal == SIGXCPU || r.signal == SIGKILL) << r.describe();
  EXPECT_LT(r.seconds, 5.0);
}

TEST_P(SandboxAttack, MemoryBombFailsInsideTheSandbox) {
  SandboxLimits limits = short_limits();
  limits.memory_bytes = size_t{256} << 20;  // small, so the bomb hits it before the wall clock
  const auto r = attack("chunks = []\nwhile True:\n    chunks.append(bytearray(32 << 20))\n", limits);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.stderr_text.find("MemoryError"), std::string::npos) << r.describe() << r.stderr_text;
}

TEST_P(SandboxAttack, WritingOutsideItsDirectoryFails) {
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

TEST_P(SandboxAttack, ReadingTheHostHomeAndTmpFails) {
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

TEST_P(SandboxAttack, OpeningASocketFails) {
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

TEST_P(SandboxAttack, PrintingAGigabyteIsCutOff) {
  const auto r = attack("import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.output_limit);
  EXPECT_EQ(r.stdout_text.size(), size_t{64} << 10);
  EXPECT_LT(r.seconds, 3.0);
}

TEST_P(SandboxAttack, IgnoringSigtermDoesNotOutliveTheTimeout) {
  SandboxLimits limits = short_limits();
  limits.wall_seconds = 1.0;
  const auto r = attack("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(100)\n", limits);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(r.seconds, 2.5);
}

TEST_P(SandboxAttack, DaemonDoesNotOutliveTheProgram) {
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

INSTANTIATE_TEST_SUITE_P(ColdAndWarm, SandboxAttack, ::testing::Values(size_t{0}, size_t{2}),
                         [](const auto& info) { return info.param ? std::string("Warm") : std::string("Cold"); });

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

TEST(WarmSandbox, RunsAProgramAsAFreshInterpreterWould) {
  // argv, __file__, __name__, stdin, the environment, output, the traceback and the exit code.
  const std::string code =
      "import os, sys\n"
      "print(__name__, os.path.basename(__file__), sys.argv, os.getcwd(), os.environ['EXTRA'])\n"
      "print(sys.stdin.read().split())\n"
      "def fail():\n"
      "    raise ValueError('boom')\n"
      "fail()\n";
  SandboxProgram p;
  p.argv = {sandbox_python(), "-I", "main.py", "arg one", "2"};
  p.files = {{"main.py", code}};
  p.env = {{"EXTRA", "x=y"}};
  p.stdin_text = "3 4\n5";
  const auto cold = Sandbox(short_limits(), 1, 0).run(p);
  const auto warm = Sandbox(short_limits(), 1, 1).run(p);
  EXPECT_EQ(cold.exit_code, 1);
  EXPECT_EQ(warm.exit_code, cold.exit_code);
  EXPECT_EQ(warm.stdout_text, cold.stdout_text);
  EXPECT_NE(cold.stdout_text.find("__main__ main.py ['main.py', 'arg one', '2']"), std::string::npos) << cold.stdout_text;
  EXPECT_NE(cold.stdout_text.find("['3', '4', '5']"), std::string::npos) << cold.stdout_text;
  // The traceback names the program's frames only, exactly as without the runner.
  EXPECT_EQ(warm.stderr_text, cold.stderr_text);
  EXPECT_NE(warm.stderr_text.find("ValueError: boom"), std::string::npos) << warm.stderr_text;
}

TEST(WarmSandbox, SyntaxErrorsAndExitCodesMatchAColdRun) {
  for (const std::string code : {"def f(:\n", "import sys\nsys.exit(7)\n", "print('a', end='')\nexit(3)\n"}) {
    SandboxProgram p;
    p.argv = {sandbox_python(), "-I", "main.py"};
    p.files = {{"main.py", code}};
    const auto cold = Sandbox(short_limits(), 1, 0).run(p);
    const auto warm = Sandbox(short_limits(), 1, 1).run(p);
    EXPECT_EQ(warm.exit_code, cold.exit_code) << code;
    EXPECT_EQ(warm.stdout_text, cold.stdout_text) << code;
    EXPECT_EQ(warm.stderr_text, cold.stderr_text) << code;
  }
}

TEST(WarmSandbox, EachProgramGetsAFreshProcessAndDirectory) {
  Sandbox sandbox(short_limits(), 1, 1);
  SandboxProgram first;
  first.argv = {sandbox_python(), "-I", "-c",
                "import fractions, os, builtins\nopen('left.txt', 'w').write('x')\nbuiltins.planted = 1\n"
                "os.environ['PLANTED'] = '1'\nprint(os.getpid())"};
  SandboxProgram second;
  second.argv = {sandbox_python(), "-I", "-c",
                 "import os, sys, builtins\nprint(sorted(os.listdir('.')), 'fractions' in sys.modules, "
                 "hasattr(builtins, 'planted'), 'PLANTED' in os.environ)"};
  for (int round = 0; round < 3; ++round) {
    const auto a = sandbox.run(first);
    ASSERT_TRUE(a.ok()) << a.describe() << a.stderr_text;
    const auto b = sandbox.run(second);
    ASSERT_TRUE(b.ok()) << b.describe() << b.stderr_text;
    EXPECT_EQ(b.stdout_text, "[] False False False\n");
  }
}

TEST(WarmSandbox, ServesProgramsRunWithItsPythonAndIsolatedFlagOnly) {
  Sandbox sandbox(short_limits(), 1, 1);
  ASSERT_FALSE(sandbox.warm_tag().empty());
  // The tag is spelled backwards so that a cold start's own command line does not contain it.
  const std::string reversed_tag(sandbox.warm_tag().rbegin(), sandbox.warm_tag().rend());
  const std::string probe = "import sys; print(sys.flags.isolated, '" + reversed_tag +
                            "'[::-1] in open('/proc/self/cmdline').read().replace(chr(0), ' '))";
  SandboxProgram p;
  p.argv = {sandbox_python(), "-I", "-c", probe};
  auto r = sandbox.run(p);
  EXPECT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "1 True\n");
  p.argv = {sandbox_python(), "-c", probe};  // no -I: not the runner's flags, so a cold start
  r = sandbox.run(p);
  EXPECT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "0 False\n");
}

TEST(WarmSandbox, StdinBeyondTheMessageReachesTheProgramInFull) {
  Sandbox sandbox(short_limits(), 1, 1);
  SandboxProgram p;
  p.argv = {sandbox_python(), "-I", "-c", "import sys\ndata = sys.stdin.buffer.read()\nprint(len(data), data[:3], data[-3:])"};
  p.stdin_text = "abc" + std::string(1 << 20, 'x') + "xyz";
  const auto r = sandbox.run(p);
  EXPECT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(r.stdout_text, std::to_string(p.stdin_text.size()) + " b'abc' b'xyz'\n");
}

}  // namespace
}  // namespace grpo::rewards
