// Peak bytes of CPU tensor memory held during a piece of code, for the memory test of the
// chunked log-probs and the benchmark. It wraps LibTorch's CPU allocator while a
// CpuPeakMemoryScope is alive and counts the bytes of live tensor storage; memory that a BLAS
// library or oneDNN allocates for itself is not seen. Not thread-safe across scopes: one scope
// at a time. CUDA memory is not measured here.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>

namespace grpo::testing {

// No `override` keywords: LibTorch 1.13 declares allocate() const and has no copy_data(), 2.x
// declares allocate() non-const and a pure copy_data(); defining both forms serves both.
class CountingCpuAllocator final : public c10::Allocator {
 public:
  static CountingCpuAllocator& instance() {
    static CountingCpuAllocator allocator;
    return allocator;
  }

  c10::DataPtr allocate(size_t bytes) const { return counted(bytes); }
  c10::DataPtr allocate(size_t bytes) { return counted(bytes); }
  c10::DeleterFnPtr raw_deleter() const { return nullptr; }
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }

  void attach() {
    inner_ = c10::GetCPUAllocator();
    c10::SetCPUAllocator(this, /*priority=*/0);
  }
  void detach() { c10::SetCPUAllocator(inner_, /*priority=*/0); }
  void reset_peak() { peak_.store(live_.load()); }
  size_t live() const { return live_.load(); }
  size_t peak() const { return peak_.load(); }

 private:
  struct Context {
    c10::DataPtr inner;
    size_t bytes;
  };

  c10::DataPtr counted(size_t bytes) const {
    c10::DataPtr inner = inner_->allocate(bytes);
    void* data = inner.get();
    auto* context = new Context{std::move(inner), bytes};
    const size_t now = live_.fetch_add(bytes) + bytes;
    size_t seen = peak_.load();
    while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
    }
    return {data, context, &release, c10::Device(c10::DeviceType::CPU)};
  }

  static void release(void* ptr) {
    auto* context = static_cast<Context*>(ptr);
    instance().live_.fetch_sub(context->bytes);
    delete context;
  }

  c10::Allocator* inner_ = nullptr;
  mutable std::atomic<size_t> live_{0};
  mutable std::atomic<size_t> peak_{0};
};

// Counts while alive; peak_bytes() is the most tensor memory held above the level at entry.
class CpuPeakMemoryScope {
 public:
  CpuPeakMemoryScope() {
    auto& a = CountingCpuAllocator::instance();
    a.attach();
    a.reset_peak();
    base_ = a.live();
  }
  ~CpuPeakMemoryScope() { CountingCpuAllocator::instance().detach(); }
  size_t peak_bytes() const {
    const size_t peak = CountingCpuAllocator::instance().peak();
    return peak > base_ ? peak - base_ : 0;
  }

 private:
  size_t base_ = 0;
};

}  // namespace grpo::testing
