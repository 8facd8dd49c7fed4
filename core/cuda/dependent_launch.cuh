// Programmatic dependent launch (sm_90+): a kernel launched with launch_dependent may start while
// the kernel before it in the stream is still running, do work that does not depend on it (issue
// its weight loads, say), and then wait_for_prerequisite_grids() before it reads anything that
// kernel wrote. The kernel before it lets it start early by calling allow_dependent_grids(); one
// that does not (cuBLAS, PyTorch's kernels) lets it start as its blocks exit. Decode steps are
// chains of short kernels, so hiding each one's launch and first memory round trip behind the
// previous one's tail adds up. Stream capture keeps these edges in a CUDA graph.
//
// The rule for a kernel launched this way: before the wait, read only data no earlier kernel of
// the step writes (weights), and write nothing.
#pragma once

#include <cuda_runtime.h>

#include <utility>

#include "core/cuda/device_facts.h"

namespace grpo::cuda {

// Blocks until every grid this one depends on has completed and its writes are visible. A no-op
// for a kernel launched the ordinary way or compiled for an older architecture.
__device__ __forceinline__ void wait_for_prerequisite_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

// Lets the next kernel in the stream, if launched with launch_dependent, start its blocks before
// this grid completes (it still waits for this grid's writes in wait_for_prerequisite_grids).
__device__ __forceinline__ void allow_dependent_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::);
#endif
}

// The opening of a kernel whose every input but weights comes from earlier kernels: the next
// kernel may start, and this one waits for its prerequisites' writes.
__device__ __forceinline__ void start_after_prerequisite_grids() {
  allow_dependent_grids();
  wait_for_prerequisite_grids();
}

// Launches `kernel` allowed to overlap the end of the stream's previous kernel (an ordinary
// launch on devices before sm_90, which lack the attribute).
template <class... Params, class... Args>
cudaError_t launch_dependent(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                             cudaStream_t stream, Args&&... args) {
  int major = 0;
  if (const cudaError_t e = current_device_major(&major); e != cudaSuccess) return e;
  cudaLaunchAttribute overlap[1];
  overlap[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  overlap[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  config.attrs = overlap;
  config.numAttrs = major >= 9 ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace grpo::cuda
