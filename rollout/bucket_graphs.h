// CUDA graphs of the engine's forwards: one graph per (rows bucket, length bucket), captured the
// first time the bucket is needed and replayed afterwards, so a decode step or a prefill costs
// one graph launch instead of hundreds of kernel launches. Static shapes come from padding: a
// decode step pads the running rows up to the bucket's row count (extra rows compute on free
// slots and are ignored) and covers the bucket's key count with a mask; a prefill pads its rows
// with rows of no real token and its prompts with padding tokens (model/arch/cached_forward.h).
// All graphs of one object share one memory pool; their inputs and outputs are the engine's
// persistent tensors, so capture and replay read the same memory. The bucket functions are plain
// C++ (and tested on CPU); the graph class exists only in CUDA builds. Not here: sampling (it
// draws from a generator and runs eagerly after the replay).
#pragma once

#include <cstdint>
#include <functional>

#ifdef GRPO_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>

#include <map>
#include <memory>
#include <utility>
#endif

namespace grpo::rollout {

inline constexpr int64_t kKeyBucket = 64;

// rows rounded up to a power of two, at most `slots`.
int64_t bucket_rows(int64_t rows, int64_t slots);
// key_len (or a prompt length) rounded up to a multiple of kKeyBucket, at most `max_len`.
int64_t bucket_keys(int64_t key_len, int64_t max_len);

#ifdef GRPO_WITH_CUDA
class BucketGraphs {
 public:
  // step(rows, len) runs one forward on the current stream, reading and writing only tensors
  // that outlive this object, and writing the same values each time it runs with the same
  // inputs; it must not synchronize with the host.
  BucketGraphs(std::function<void(int64_t rows, int64_t len)> step, int device_index);
  // Replays the graph of (rows, len), capturing it first when new. Both must be bucket values.
  void run(int64_t rows, int64_t len);
  size_t size() const { return graphs_.size(); }

 private:
  void capture(int64_t rows, int64_t len);

  std::function<void(int64_t, int64_t)> step_;
  int device_index_;
  decltype(at::cuda::graph_pool_handle()) pool_;
  std::map<std::pair<int64_t, int64_t>, std::unique_ptr<at::cuda::CUDAGraph>> graphs_;
};
#endif

}  // namespace grpo::rollout
