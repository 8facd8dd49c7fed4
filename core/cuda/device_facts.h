// Host-side facts about the current CUDA device that kernel launchers need on every launch,
// asked of the runtime once per device: its compute capability, and whether a kernel may use a
// given amount of dynamic shared memory (past 48 KiB that is an opt-in per kernel and device).
// Eager launches happen hundreds of times a step, so neither is re-asked each time.
#pragma once

#include <cuda_runtime_api.h>

#include <mutex>
#include <set>
#include <tuple>

namespace grpo::cuda {

inline constexpr int kMaxCachedDevices = 64;

// *major = the current device's compute capability major version.
inline cudaError_t current_device_major(int* major) {
  static int majors[kMaxCachedDevices] = {};  // 0: not asked yet
  int device = 0;
  if (const cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return e;
  if (device < kMaxCachedDevices && majors[device] > 0) {
    *major = majors[device];
    return cudaSuccess;
  }
  if (const cudaError_t e = cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, device); e != cudaSuccess)
    return e;
  if (device < kMaxCachedDevices) majors[device] = *major;
  return cudaSuccess;
}

// Lets `kernel` launch with `bytes` of dynamic shared memory on the current device.
template <class Kernel>
cudaError_t allow_shared_bytes(Kernel* kernel, size_t bytes) {
  if (bytes <= 48 * 1024) return cudaSuccess;  // the default limit needs no opt-in
  static std::mutex mutex;
  static std::set<std::tuple<const void*, int, size_t>> done;  // (kernel, device, bytes)
  int device = 0;
  if (const cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return e;
  const auto key = std::make_tuple(reinterpret_cast<const void*>(kernel), device, bytes);
  const std::lock_guard<std::mutex> lock(mutex);
  if (done.count(key)) return cudaSuccess;
  if (const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
      e != cudaSuccess)
    return e;
  done.insert(key);
  return cudaSuccess;
}

}  // namespace grpo::cuda
