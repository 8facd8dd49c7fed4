// The shared worker pool: results, exceptions and full coverage of parallel_for.
#include <gtest/gtest.h>

#include <atomic>

#include "core/thread_pool.h"

TEST(ThreadPool, SubmitReturnsTheTaskResult) {
  grpo::ThreadPool pool(2);
  auto f = pool.submit([] { return 6 * 7; });
  EXPECT_EQ(f.get(), 42);
}

TEST(ThreadPool, ParallelForVisitsEveryIndexExactlyOnce) {
  grpo::ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  pool.parallel_for(hits.size(), [&](size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, ParallelForRethrowsATaskException) {
  grpo::ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(10, [](size_t i) {
    if (i == 7) throw std::runtime_error("boom");
  }),
               std::runtime_error);
}
