// The collectives a data-parallel run needs, over LibTorch's c10d: rendezvous through a TCPStore
// on rank 0 (with a timeout, so an unreachable MASTER_ADDR fails naming it instead of hanging),
// a check that every rank resolved the same config, and a Gloo (CPU) or NCCL (CUDA) process group
// whose collectives time out. Every c10d type stays inside process_group.cpp: LibTorch 2.x moved
// the collectives from c10d::ProcessGroup to c10d::Backend, so the concrete backend classes
// (identical in 1.13 and 2.x) are the only ones used. A dead or stuck peer makes a collective
// throw grpo::Error naming the operation and this rank. Not here: bucketing or overlap with the
// backward, sharded optimizer state, broadcasts of weights to rollout workers.
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
