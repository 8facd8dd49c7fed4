// The collectives a data-parallel run needs, over LibTorch's c10d: rendezvous through a TCPStore
// on rank 0 (with a timeout, so an unreachable MASTER_ADDR fails naming it instead of hanging),
// a check that every rank resolved the same config, and a Gloo (CPU) or NCCL (CUDA) process group
// whose collectives time out. Every c10d type stays inside process_group.cpp: LibTorch 2.x moved
// the collectives from c10d::ProcessGroup to c10d::Backend, so the concrete backend classes
// (identical in 1.13 and 2.x) are the only ones used. A dead or stuck peer makes a collective
// throw grpo::Error naming the operation and this rank. ZeRO-1 cuts flat buffers into one
// contiguous shard per rank (shard_of) and all-gathers them back (all_gather_shards). Not here:
// bucketing or overlap with the backward, reduce-scatter (ZeRO-2), broadcasts of weights to
// rollout workers.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "distributed/world.h"

namespace grpo::distributed {

struct RendezvousOptions {
  // Bounds the rendezvous (every rank must join within it) and every collective.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  std::string backend = "gloo";  // "gloo" (CPU tensors) or "nccl" (CUDA tensors)
  // Published by every rank and compared: ranks that differ from rank 0 fail the rendezvous.
  std::string config_fingerprint;
};

// The collective timeout: GRPO_DISTRIBUTED_TIMEOUT_S (seconds) when set, else 300 s.
std::chrono::milliseconds timeout_from_environment(const EnvironmentLookup& env = process_environment);

// "nccl" for a CUDA device, "gloo" otherwise.
std::string backend_for(const torch::Device& device);

// A stable 64-bit fingerprint (FNV-1a, hex) of a resolved config's text.
std::string fingerprint(const std::string& text);

// The elements [begin, begin + size) of a flat buffer of n elements that `rank` of `world` owns:
// shards of ceil(n / world) elements in rank order, the last ones shorter or empty (n = 10 over 4
// ranks: 3, 3, 3, 1; n = 5 over 4: 2, 2, 1, 0).
struct Shard {
  int64_t begin = 0, size = 0;
};
Shard shard_of(int64_t n, int rank, int world);

class ProcessGroup {
 public:
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;
  ~ProcessGroup();

  int rank() const { return world_.rank; }
  int size() const { return world_.size; }
  const World& world() const { return world_; }

  // Sums each tensor over all ranks, in place. Each tensor is reduced on its own (their shapes
  // and dtypes may differ); all are issued before the first wait.
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors);
  // `flat`: a contiguous 1-D tensor of the same size on every rank, of which this rank holds
  // its shard_of(flat.numel(), rank(), size()) up to date; on return every rank's `flat` holds
  // every rank's shard. One all-gather (the shards padded to equal length).
  void all_gather_shards(const torch::Tensor& flat);
  // Returns once every rank has called it.
  void barrier();

  struct Backend;  // the c10d process group (process_group.cpp)

 private:
  friend std::unique_ptr<ProcessGroup> rendezvous(const World&, const RendezvousOptions&);
  ProcessGroup(World world, std::unique_ptr<Backend> backend);
  World world_;
  std::unique_ptr<Backend> backend_;
};

// Joins the job: rank 0 opens the TCPStore at master_addr:master_port and waits for the others,
// every rank publishes options.config_fingerprint and checks all of them, then the process group
// is built. world.distributed() must hold. Throws grpo::Error: the rendezvous timed out (naming
// MASTER_ADDR:MASTER_PORT and how many seconds), a rank's config differs (naming it), or the
// backend is not compiled into this LibTorch.
std::unique_ptr<ProcessGroup> rendezvous(const World& world, const RendezvousOptions& options);

}  // namespace grpo::distributed
