// The MoE row layout of a training step in one block; see expert_layout_kernel.h.
#include "model/kernels/moe/expert_layout_kernel.h"

namespace grpo::model::kernels {
namespace {

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;

// One block: pairs are taken a block-width chunk at a time, in order, so ranks follow pair order.
__global__ void __launch_bounds__(kThreads) expert_layout_kernel(ExpertLayoutArgs a) {
  __shared__ int counts[kExpertLayoutMaxExperts];
  __shared__ int64_t next_row[kExpertLayoutMaxExperts];         // each expert's next free row
  __shared__ int chunk_total[kExpertLayoutMaxExperts];          // each expert's pairs in this chunk
  __shared__ int warp_offset[kWarps][kExpertLayoutMaxExperts];  // this chunk: count, then offset, per warp
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  for (int e = tid; e < a.num_experts; e += kThreads) counts[e] = 0;
  __syncthreads();
  for (int64_t p = tid; p < a.pairs; p += kThreads) atomicAdd(&counts[a.experts[p]], 1);  // integers: order-free
  __syncthreads();
  if (tid == 0) {
    int64_t start = 0;
    for (int e = 0; e < a.num_experts; ++e) {
      next_row[e] = start;
      start += (counts[e] + a.align - 1) / a.align * a.align;
      a.ends[e] = static_cast<int32_t>(e == a.num_experts - 1 ? a.rows : start);
    }
  }
  for (int64_t r = tid; r < a.rows; r += kThreads) {  // what padding rows keep
    a.token_of_row[r] = 0;
    a.pair_of_row[r] = a.pairs;
  }
  for (int64_t base = 0; base < a.pairs; base += kThreads) {
    const int64_t p = base + tid;
    const bool active = p < a.pairs;
    const int e = active ? static_cast<int>(a.experts[p]) : -1;
    for (int i = tid; i < kWarps * a.num_experts; i += kThreads) warp_offset[i / a.num_experts][i % a.num_experts] = 0;
    __syncthreads();
    // The lanes of this warp with the same expert, and this lane's rank among them.
    const unsigned same = __match_any_sync(0xffffffffu, e);
    const int rank = __popc(same & ((1u << lane) - 1u));
    if (active && rank == 0) warp_offset[warp][e] = __popc(same);
    __syncthreads();
    for (int x = tid; x < a.num_experts; x += kThreads) {  // exclusive scan over warps, per expert
      int offset = 0;
      for (int w = 0; w < kWarps; ++w) {
        const int c = warp_offset[w][x];
        warp_offset[w][x] = offset;
        offset += c;
      }
      chunk_total[x] = offset;
    }
    __syncthreads();
    if (active) {
      const int64_t row = next_row[e] + warp_offset[warp][e] + rank;
      a.row_of_pair[p] = row;
      a.token_of_row[row] = p / a.top_k;
      a.pair_of_row[row] = p;
    }
    __syncthreads();
    for (int x = tid; x < a.num_experts; x += kThreads) next_row[x] += chunk_total[x];
    __syncthreads();
  }
}

}  // namespace

cudaError_t launch_expert_layout(const ExpertLayoutArgs& a, cudaStream_t stream) {
  expert_layout_kernel<<<1, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

}  // namespace grpo::model::kernels
