// Kineto tracing for benchmarks; see kernel_profile.h.
#include "bench/common/kernel_profile.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>

namespace grpo::bench {
namespace {

using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

ProfilerConfig trace_config() { return ProfilerConfig(ProfilerState::KINETO); }
std::set<ActivityType> activities() { return {ActivityType::CPU, ActivityType::CUDA}; }

}  // namespace

KernelProfile::KernelProfile() {
  torch::autograd::profiler::prepareProfiler(trace_config(), activities());
  torch::autograd::profiler::enableProfiler(trace_config(), activities());
  active_ = true;
}

KernelProfile::~KernelProfile() {
  if (active_) torch::autograd::profiler::disableProfiler();
}

void KernelProfile::save(const std::string& path) {
  auto result = torch::autograd::profiler::disableProfiler();
  active_ = false;
  result->save(path);
}

}  // namespace grpo::bench
