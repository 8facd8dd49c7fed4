// Linked into the test binaries whose tests make scratch files and directories named grpo…_<pid>
// under the system temp dir: a global environment removes this process's at exit (ctest runs each
// test in a process of its own, so each process cleans what it made), instead of leaving some
// thirty entries in /tmp per test run. gtest_main provides main(); this only registers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/filesystem.h"

namespace {

class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    namespace fs = std::filesystem;
    const std::string suffix = "_" + std::to_string(::getpid());
    std::error_code ignored;
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path(), ignored)) {
      const auto name = e.path().filename().string();
      if (name.rfind("grpo", 0) == 0 && name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        grpo::try_remove_tree(e.path());
    }
  }
};

const auto* const kScratchCleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

}  // namespace
