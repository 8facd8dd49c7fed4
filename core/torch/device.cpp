// Device/dtype parsing and CPU thread setup; see device.h.
#include "core/torch/device.h"

#include <algorithm>
#include <thread>

#include "core/error.h"

#include <ATen/CPUGeneratorImpl.h>
#include <sys/resource.h>

#ifdef GRPO_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace grpo {

bool cuda_available() { return torch::cuda::is_available(); }

torch::Device parse_device(const std::string& name) {
  if (name == "auto") return cuda_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  try {
    torch::Device device(name);
    if (device.is_cuda() && !cuda_available())
      throw Error("device '" + name + "' requested but no CUDA device is available in this build/machine");
    return device;
  } catch (const c10::Error&) {
    throw Error("unknown device '" + name + "' (expected auto, cpu, cuda or cuda:N)");
  }
}

torch::Dtype parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32") return torch::kFloat32;
  if (name == "bfloat16" || name == "bf16") return torch::kBFloat16;
  if (name == "float16" || name == "fp16" || name == "half") return torch::kFloat16;
  throw Error("unknown dtype '" + name + "' (expected float32, bfloat16 or float16)");
}

std::string dtype_name(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat32: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: return std::string(c10::toString(dtype));
  }
}

void set_cpu_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
}

at::Generator make_generator(const torch::Device& device, uint64_t seed) {
#ifdef GRPO_WITH_CUDA
  if (device.is_cuda()) {
    auto gen = at::cuda::detail::createCUDAGenerator(device.has_index() ? device.index() : 0);
    gen.set_current_seed(seed);
    return gen;
  }
#endif
  if (!device.is_cpu()) throw Error("no random generator for device " + device.str());
  return at::detail::createCPUGenerator(seed);
}

double peak_memory_gib(const torch::Device& device) {
#ifdef GRPO_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1ull << 30);
  }
#endif
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1 << 20);  // ru_maxrss is in KiB on Linux
}

void reset_peak_memory(const torch::Device& device) {
#ifdef GRPO_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#endif
}

std::string describe_device(const torch::Device& device) {
#ifdef GRPO_WITH_CUDA
  if (device.is_cuda()) {
    const auto* props = at::cuda::getDeviceProperties(device.has_index() ? device.index() : 0);
    return std::string(props->name) + " (" + device.str() + ")";
  }
#endif
  return device.str();
}

}  // namespace grpo
