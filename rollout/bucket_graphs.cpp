// Buckets and their CUDA graphs; see bucket_graphs.h.
#include "rollout/bucket_graphs.h"

#include <algorithm>

#ifdef GRPO_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace grpo::rollout {

int64_t bucket_rows(int64_t rows, int64_t slots) {
  int64_t bucket = 1;
  while (bucket < rows) bucket *= 2;
  return std::min(bucket, slots);
}

int64_t bucket_keys(int64_t key_len, int64_t max_len) {
  return std::min((key_len + kKeyBucket - 1) / kKeyBucket * kKeyBucket, max_len);
}

#ifdef GRPO_WITH_CUDA
BucketGraphs::BucketGraphs(std::function<void(int64_t, int64_t)> step, int device_index)
    : step_(std::move(step)), device_index_(device_index), pool_(at::cuda::graph_pool_handle()) {}

void BucketGraphs::run(int64_t rows, int64_t len) {
  const auto key = std::make_pair(rows, len);
  if (graphs_.find(key) == graphs_.end()) capture(rows, len);
  graphs_.at(key)->replay();
}

// Capture happens on a side stream (a graph cannot be captured on the default stream), after one
// eager run there so that lazily created per-stream state (cuBLAS workspaces) exists before
// capture. The step only writes what the replay will write again, so these extra runs change
// nothing.
void BucketGraphs::capture(int64_t rows, int64_t len) {
  auto main = c10::cuda::getCurrentCUDAStream(device_index_);
  auto side = c10::cuda::getStreamFromPool(false, device_index_);
  main.synchronize();
  auto graph = std::make_unique<at::cuda::CUDAGraph>();
  {
    c10::cuda::CUDAStreamGuard guard(side);
    step_(rows, len);
    side.synchronize();
    graph->capture_begin(pool_);
    step_(rows, len);
    graph->capture_end();
  }
  side.synchronize();
  graphs_.emplace(std::make_pair(rows, len), std::move(graph));
}
#endif

}  // namespace grpo::rollout
