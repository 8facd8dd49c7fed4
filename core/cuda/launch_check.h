// Host side of the project's CUDA kernels: a launcher's status as a grpo::Error naming the
// kernel. On success it does nothing (no message is built on the hot path).
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "core/error.h"

namespace grpo::cuda {

inline void check_launch(cudaError_t status, const char* kernel) {
  if (status != cudaSuccess) throw Error(std::string(kernel) + ": kernel launch failed: " + cudaGetErrorString(status));
}

}  // namespace grpo::cuda
