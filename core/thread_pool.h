// The one thread pool of grpo.cpp, for CPU work off the GPU thread: reward scoring, batch
// tokenization, dataset parsing. Fixed size, FIFO, tasks return futures. It does not do
// work stealing or priorities; tasks that block on I/O or child processes are fine.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <type_traits>
#include <vector>

namespace grpo {

class ThreadPool {
 public:
  // threads = 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  template <class F>
  auto submit(F&& fn) -> std::future<std::invoke_result_t<F>> {
    using R = std::invoke_result_t<F>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
    std::future<R> result = task->get_future();
    enqueue([task] { (*task)(); });
    return result;
  }

  // Runs fn(i) for i in [0, n) on the pool and waits; rethrows the first exception.
  void parallel_for(size_t n, const std::function<void(size_t)>& fn);

  // A process-wide pool sized to the machine, created on first use.
  static ThreadPool& shared();

 private:
  void enqueue(std::function<void()> job);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::queue<std::function<void()>> jobs_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace grpo
