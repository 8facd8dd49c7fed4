// For GPU tests: skip without a CUDA device, and the device they run on.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#define GRPO_REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

namespace grpo::testing {

inline const torch::Device kCuda(torch::kCUDA, 0);

}  // namespace grpo::testing
