// Sandbox: how many children run at once, which uid each runs as, and whether a program gets a
// freshly started child or a warm one; see sandbox.h. One child's mechanics live in
// sandboxed_child.h, the warm runner in warm_runner.h.
#include "rewards/code/sandbox.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/error.h"
#include "rewards/code/sandbox_child.h"
#include "rewards/code/sandboxed_child.h"
#include "rewards/code/seccomp_filter.h"
#include "rewards/code/warm_runner.h"

namespace grpo::rewards {
namespace {

namespace fs = std::filesystem;

// The uids mix in the pid so that two grpo processes on one machine do not share them.
constexpr unsigned kUidBase = 1500000000u;

unsigned first_uid_of_new_sandbox(size_t uids) {
  static std::atomic<unsigned> next{0};
  const unsigned offset = next.fetch_add(static_cast<unsigned>(uids)) % 4096u;
  return kUidBase + ((static_cast<unsigned>(getpid()) & 0xFFFFu) << 12) + offset;
}

std::string new_warm_tag() {
  static std::atomic<unsigned> next{0};
  // "-of-" ends the number, so no tag is a prefix of another (…-1-of-… is not in …-10-of-…).
  return "grpo-warm-" + std::to_string(next.fetch_add(1)) + "-of-" + std::to_string(getpid());
}

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

Sandbox::Sandbox(SandboxLimits limits, size_t slots, size_t warm, std::string warm_python)
    : limits_(limits), slots_(slots ? slots : std::max(1u, std::thread::hardware_concurrency())), warm_target_(warm) {
  const unsigned first_uid = first_uid_of_new_sandbox(slots_ + warm_target_);
  for (size_t i = slots_ + warm_target_; i > 0; --i) free_uids_.push_back(first_uid + static_cast<unsigned>(i - 1));
  namespaces_available();
  detail::seccomp_program();
  if (warm_target_ > 0) {
    warm_python_ = warm_python.empty() ? sandbox_python() : std::move(warm_python);
    warm_tag_ = new_warm_tag();
    // Warm children are forked by this thread, which lives as long as the sandbox: their
    // parent-death signal fires when the forking thread ends, not only the process.
    starter_ = std::thread([this] { keep_warm(); });
  }
}

Sandbox::~Sandbox() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  warm_wanted_.notify_all();
  if (starter_.joinable()) starter_.join();
  warm_children_.clear();  // kills and reaps them, removes their directories
}

unsigned Sandbox::take_uid() {
  // Callers hold mutex_. Live children never exceed slots + warm, so one is always free.
  if (free_uids_.empty()) throw Error("sandbox: no free uid (more live children than slots + warm)");
  const unsigned uid = free_uids_.back();
  free_uids_.pop_back();
  return uid;
}

void Sandbox::return_uid(unsigned uid) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_uids_.push_back(uid);
  }
  warm_wanted_.notify_one();
}

void Sandbox::keep_warm() {
  const auto argv = detail::warm_runner_argv(warm_python_, warm_tag_);
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    warm_wanted_.wait(lock, [this] {
      return stopping_ || (warm_children_.size() < warm_target_ && !free_uids_.empty() && warm_error_.empty());
    });
    if (stopping_) return;
    const unsigned uid = take_uid();
    lock.unlock();
    std::unique_ptr<detail::SandboxedChild> child;
    std::string error;
    try {
      child = std::make_unique<detail::SandboxedChild>(argv, std::map<std::string, std::string>{},
                                                       std::map<std::string, std::string>{}, limits_, uid);
    } catch (const std::exception& e) {  // this thread must not die: a run() would wait forever
      error = e.what();
    }
    lock.lock();
    if (child) {
      warm_children_.push_back(std::move(child));
    } else {
      free_uids_.push_back(uid);
      warm_error_ = "sandbox: starting a warm child failed: " + error;
    }
    warm_ready_.notify_one();
  }
}

SandboxResult Sandbox::run(const SandboxProgram& program) {
  if (program.argv.empty() || program.argv[0].empty() || program.argv[0][0] != '/') {
    throw Error("sandbox: argv[0] must be an absolute path");
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    slot_free_.wait(lock, [this] { return busy_ < slots_; });
    ++busy_;
  }
  struct SlotGuard {
    Sandbox* self;
    ~SlotGuard() {
      {
        std::lock_guard<std::mutex> lock(self->mutex_);
        --self->busy_;
      }
      self->slot_free_.notify_one();
    }
  } slot_guard{this};
  const bool warm = warm_target_ > 0 && detail::warm_runner_serves(program.argv, program.env, warm_python_);
  return warm ? run_warm(program) : run_cold(program);
}

SandboxResult Sandbox::run_cold(const SandboxProgram& program) {
  unsigned uid;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    uid = take_uid();
  }
  SandboxResult result;
  try {
    detail::SandboxedChild child(program.argv, program.env, program.files, limits_, uid);
    result = child.finish(program.stdin_text, limits_.wall_seconds);
  } catch (...) {
    return_uid(uid);
    throw;
  }
  return_uid(uid);
  return result;
}

SandboxResult Sandbox::run_warm(const SandboxProgram& program) {
  std::unique_ptr<detail::SandboxedChild> child;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    warm_ready_.wait(lock, [this] { return !warm_children_.empty() || !warm_error_.empty(); });
    if (warm_children_.empty()) {
      const std::string error = std::exchange(warm_error_, "");
      lock.unlock();
      warm_wanted_.notify_one();
      throw Error(error);
    }
    child = std::move(warm_children_.front());
    warm_children_.pop_front();
  }
  warm_wanted_.notify_one();  // its replacement starts while this program runs
  const unsigned uid = child->uid();
  SandboxResult result;
  try {
    child->add_files(program.files);
    result = child->finish(detail::warm_runner_message(program.argv, program.env) + program.stdin_text,
                           limits_.wall_seconds);
  } catch (...) {
    child.reset();
    return_uid(uid);
    throw;
  }
  child.reset();
  return_uid(uid);
  return result;
}

}  // namespace grpo::rewards
