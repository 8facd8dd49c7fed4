// Shared pieces of the MoE decode kernel sweep (moe_decode_sweep.cu): error checks, timing, and
// the configurations each kernel file offers. Each kernel's .cu is included by its own
// translation unit (gate_up_configs.cu, down_configs.cu, router_configs.cu), so their file-local
// helpers stay apart.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "model/kernels/moe/expert_down_kernel.h"
#include "model/kernels/moe/expert_gate_up_kernel.h"
#include "model/kernels/moe/router_kernel.h"

#define SWEEP_CHECK(x)                                                           \
  do {                                                                           \
    cudaError_t e_ = (x);                                                        \
    if (e_ != cudaSuccess) {                                                     \
      std::fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e_));              \
      std::exit(1);                                                              \
    }                                                                            \
  } while (0)

namespace sweep {

// The median over `repeats` of the time per launch of 10 back-to-back launches in microseconds
// (after 5 warm-up launches): the launches queue up on the device, as in a CUDA graph, so the
// host's launch latency stays out of the number.
template <class F>
float median_us(F&& launch, int repeats = 30) {
  cudaEvent_t a, b;
  SWEEP_CHECK(cudaEventCreate(&a));
  SWEEP_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 5; ++i) launch();
  std::vector<float> times;
  for (int i = 0; i < repeats; ++i) {
    SWEEP_CHECK(cudaEventRecord(a));
    for (int k = 0; k < 10; ++k) launch();
    SWEEP_CHECK(cudaEventRecord(b));
    SWEEP_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    SWEEP_CHECK(cudaEventElapsedTime(&ms, a, b));
    times.push_back(ms * 100.f);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

struct GateUpConfig {
  std::string name;
  std::function<cudaError_t(const grpo::model::kernels::ExpertGateUpArgs&, int, cudaStream_t)> launch;
};
std::vector<GateUpConfig> gate_up_configs();

struct DownConfig {
  std::string name;
  int blocks_per_multiprocessor;
  std::function<int(const grpo::model::kernels::ExpertDownArgs&, int)> splits;  // (args, multiprocessors)
  std::function<cudaError_t(const grpo::model::kernels::ExpertDownArgs&, cudaStream_t)> launch;
};
std::vector<DownConfig> down_configs();

struct RouterConfig {
  std::string name;
  std::function<cudaError_t(const grpo::model::kernels::RouterArgs&, cudaStream_t)> launch;
};
std::vector<RouterConfig> router_configs();

}  // namespace sweep
