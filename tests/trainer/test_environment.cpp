// Test-binary set-up for test_trainer. One LibTorch thread: the models here are
// tiny (hidden 64), so a second intra-op thread buys nothing, and on a loaded 2-core machine
// OpenMP's spinning threads made `grpo sft` on them 7x slower (12.2 s vs 1.6 s for the same 40
// steps); the runs set run.threads: 1 for the same reason. (The temp directories this process
// makes, tiny_world.h's fresh_dir, are removed by tests/common/scratch_cleanup.cpp.) gtest_main
// provides main(); this registers a global environment instead of a second main.
#include <gtest/gtest.h>

#include "core/crash_handler.h"
#include "core/torch/device.h"

namespace {

class TrainerTestEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    grpo::install_crash_handler();
    grpo::set_cpu_threads(1);
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new TrainerTestEnvironment);

}  // namespace
