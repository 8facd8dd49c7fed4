// Asynchronous global-to-shared copies (sm_80+) for the project's pipelined CUDA kernels: a
// thread issues 16-byte copies that land in shared memory while it computes on an earlier stage,
// groups them with commit, and waits until at most N groups are still in flight.
#pragma once

namespace grpo::cuda {

// Copies 16 bytes from global `src` to shared `dst`, or writes 16 zero bytes when !valid (src
// is then not read but must still be a valid address).
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, bool valid) {
  const unsigned shared = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared), "l"(src), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

}  // namespace grpo::cuda
