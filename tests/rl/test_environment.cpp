// Test-binary set-up for test_rl: LibTorch may start with one intra-op thread; use every core.
// gtest_main provides main(); this registers a global environment instead of a second main.
#include <gtest/gtest.h>

#include "core/torch/device.h"

namespace {

class TorchThreads : public ::testing::Environment {
 public:
  void SetUp() override { grpo::set_cpu_threads(0); }
};

const auto* const kTorchThreads = ::testing::AddGlobalTestEnvironment(new TorchThreads);

}  // namespace
