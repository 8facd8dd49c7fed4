// One-pass sampling kernels; see fused_sampling_kernel.h.
#include "rollout/fused_sampling_kernel.h"

#include <climits>
#include <cmath>

#include "core/cuda/bfloat16.cuh"

namespace grpo::rollout::kernels {
namespace {

constexpr int kThreads = 512;
constexpr int kMaxSplits = 32;  // one warp merges a row's partials
constexpr int kMinColumnsPerSplit = 2048;

// What a block (or a thread) knows about its columns: the running max and sum of exp(s - max)
// of the scaled logits s, and the best race score with its column.
struct Partial {
  float max;
  float sum;
  float best;
  int index;
};

__device__ __forceinline__ Partial empty_partial() { return {-INFINITY, 0.f, -INFINITY, INT_MAX}; }

__device__ __forceinline__ Partial merge(const Partial& a, const Partial& b) {
  Partial out;
  out.max = fmaxf(a.max, b.max);
  out.sum = out.max == -INFINITY ? 0.f : a.sum * expf(a.max - out.max) + b.sum * expf(b.max - out.max);
  const bool take_b = b.best > a.best || (b.best == a.best && b.index < a.index);
  out.best = take_b ? b.best : a.best;
  out.index = take_b ? b.index : a.index;
  return out;
}

__device__ __forceinline__ Partial warp_merge(Partial p) {
#pragma unroll
  for (int lane_mask = 16; lane_mask > 0; lane_mask /= 2) {
    Partial other;
    other.max = __shfl_xor_sync(0xffffffffu, p.max, lane_mask);
    other.sum = __shfl_xor_sync(0xffffffffu, p.sum, lane_mask);
    other.best = __shfl_xor_sync(0xffffffffu, p.best, lane_mask);
    other.index = __shfl_xor_sync(0xffffffffu, p.index, lane_mask);
    p = merge(p, other);
  }
  return p;
}

// Philox-4x32-10 (Salmon et al., SC'11): four 32-bit words from a counter and a key.
__device__ __forceinline__ uint4 philox4x32_10(uint4 counter, uint2 key) {
#pragma unroll
  for (int round = 0; round < 10; ++round) {
    const uint32_t hi0 = __umulhi(0xD2511F53u, counter.x), lo0 = 0xD2511F53u * counter.x;
    const uint32_t hi1 = __umulhi(0xCD9E8D57u, counter.z), lo1 = 0xCD9E8D57u * counter.z;
    counter = make_uint4(hi1 ^ counter.y ^ key.x, lo1, hi0 ^ counter.w ^ key.y, lo0);
    key.x += 0x9E3779B9u;
    key.y += 0xBB67AE85u;
  }
  return counter;
}

// log E for E ~ Exp(1), E = -log(1 - v) with v uniform in (0, 1). The race is decided by the
// smallest E, i.e. the smallest v, where a series keeps float precision; elsewhere the hardware
// log is enough (its error is far below what a 20,000-draw test resolves). The
// fast intrinsics matter: with libm's logf/log1pf/expf the kernel was compute-bound at 10x the
// time of reading the logits.
__device__ __forceinline__ float log_exponential(uint32_t bits) {
  const float v = (static_cast<float>(bits) + 0.5f) * 2.3283064365386963e-10f;  // 2^-32
  // Below 1/16 the series -log(1 - v) = v + v^2/2 + ... to v^6 is within 1e-8 relative; above,
  // 1 - v < 0.94 and the hardware log's absolute error (~4e-7) is below 6e-6 relative.
  const float e = v < 0.0625f
                      ? v * (1.f + v * (1.f / 2 + v * (1.f / 3 + v * (1.f / 4 + v * (1.f / 5 + v * (1.f / 6))))))
                      : -__logf(1.f - v);
  return __logf(e);
}

__device__ __forceinline__ float load_logit(const float* p) { return *p; }
__device__ __forceinline__ float load_logit(const uint16_t* p) { return cuda::bf16_to_float(*p); }

// Four consecutive logits from a 4-aligned column; `vector` loads them in one instruction.
template <typename T, bool kVector>
__device__ __forceinline__ void load4(const T* p, float out[4]) {
  if constexpr (kVector && sizeof(T) == 2) {
    const uint2 raw = *reinterpret_cast<const uint2*>(p);
    out[0] = cuda::low_bf16(raw.x);
    out[1] = cuda::high_bf16(raw.x);
    out[2] = cuda::low_bf16(raw.y);
    out[3] = cuda::high_bf16(raw.y);
  } else if constexpr (kVector) {
    const float4 raw = *reinterpret_cast<const float4*>(p);
    out[0] = raw.x, out[1] = raw.y, out[2] = raw.z, out[3] = raw.w;
  } else {
#pragma unroll
    for (int e = 0; e < 4; ++e) out[e] = load_logit(p + e);
  }
}

// Grid (splits, rows): block (s, r) reduces columns [s·chunk, (s+1)·chunk) of row r.
template <typename T, bool kVector>
__global__ void __launch_bounds__(kThreads)
    sample_partials_kernel(const T* __restrict__ logits, int64_t row_stride, int vocab, int chunk,
                           const float* __restrict__ temperature, const bool* __restrict__ greedy,
                           const int64_t* __restrict__ key, Partial* __restrict__ partials) {
  const int row = blockIdx.y, split = blockIdx.x;
  const int begin = split * chunk, end = min(vocab, begin + chunk);
  const T* x = logits + static_cast<int64_t>(row) * row_stride;
  const float inv_t = 1.f / temperature[row];
  const bool is_greedy = greedy[row];
  const uint64_t k0 = static_cast<uint64_t>(key[0]), k1 = static_cast<uint64_t>(key[1]);
  const uint2 philox_key = make_uint2(static_cast<uint32_t>(k0), static_cast<uint32_t>(k0 >> 32));

  Partial p = empty_partial();
  for (int group = begin / 4 + static_cast<int>(threadIdx.x); group * 4 < end; group += kThreads) {
    const int col = group * 4;
    float z[4];
    if (col + 4 <= end) {
      load4<T, kVector>(x + col, z);
    } else {
#pragma unroll
      for (int e = 0; e < 4; ++e) z[e] = col + e < end ? load_logit(x + col + e) : -INFINITY;
    }
    uint4 r = make_uint4(0, 0, 0, 0);
    if (!is_greedy)
      r = philox4x32_10(make_uint4(static_cast<uint32_t>(group), static_cast<uint32_t>(row), static_cast<uint32_t>(k1),
                                   static_cast<uint32_t>(k1 >> 32)),
                        philox_key);
    const uint32_t bits[4] = {r.x, r.y, r.z, r.w};
    float scaled[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) scaled[e] = z[e] * inv_t;
    // The four values join the running sum under one new maximum: five exponentials per four
    // logits and no branch per logit. -inf (masked, or past the end) adds exp(-inf) = 0.
    const float group_max = fmaxf(fmaxf(scaled[0], scaled[1]), fmaxf(scaled[2], scaled[3]));
    if (group_max > -INFINITY) {
      const float new_max = fmaxf(p.max, group_max);
      float sum = p.sum * __expf(p.max - new_max);
#pragma unroll
      for (int e = 0; e < 4; ++e) sum += __expf(scaled[e] - new_max);
      p.sum = sum;
      p.max = new_max;
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if (scaled[e] == -INFINITY) continue;  // never chosen
      const float score = is_greedy ? z[e] : scaled[e] - log_exponential(bits[e]);
      if (score > p.best) {  // columns rise within a thread: strict > keeps the first of equals
        p.best = score;
        p.index = col + e;
      }
    }
  }

  __shared__ Partial per_warp[kThreads / 32];
  p = warp_merge(p);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) per_warp[warp] = p;
  __syncthreads();
  if (warp == 0) {
    p = lane < kThreads / 32 ? per_warp[lane] : empty_partial();
    p = warp_merge(p);
    if (lane == 0) partials[static_cast<int64_t>(row) * gridDim.x + split] = p;
  }
}

// One warp per row: merges the row's partials and writes the token and its log-prob.
template <typename T>
__global__ void sample_finalize_kernel(const T* __restrict__ logits, int64_t row_stride, int splits,
                                       const float* __restrict__ temperature, const Partial* __restrict__ partials,
                                       int64_t* __restrict__ tokens, float* __restrict__ logprobs) {
  const int row = blockIdx.x, lane = threadIdx.x;
  Partial p = lane < splits ? partials[static_cast<int64_t>(row) * splits + lane] : empty_partial();
  p = warp_merge(p);
  if (lane != 0) return;
  const int token = p.index == INT_MAX ? 0 : p.index;  // a row of only -inf/NaN logits
  const float z = load_logit(logits + static_cast<int64_t>(row) * row_stride + token);
  tokens[row] = token;
  logprobs[row] = z / temperature[row] - (p.max + logf(p.sum));
}

template <typename T>
cudaError_t launch_typed(const SampleArgs& a, cudaStream_t stream) {
  const int chunk = ((a.vocab + a.splits - 1) / a.splits + 3) / 4 * 4;  // whole 4-column groups
  const T* logits = static_cast<const T*>(a.logits);
  auto* partials = static_cast<Partial*>(a.workspace);
  const dim3 grid(a.splits, a.rows);
  // Vector loads need every 4-column group 4-aligned in memory: the base and the row stride.
  constexpr size_t kVectorBytes = 4 * sizeof(T);
  const bool vector = reinterpret_cast<uintptr_t>(logits) % kVectorBytes == 0 && a.row_stride % 4 == 0;
  if (vector)
    sample_partials_kernel<T, true><<<grid, kThreads, 0, stream>>>(logits, a.row_stride, a.vocab, chunk, a.temperature,
                                                                   a.greedy, a.key, partials);
  else
    sample_partials_kernel<T, false><<<grid, kThreads, 0, stream>>>(logits, a.row_stride, a.vocab, chunk,
                                                                    a.temperature, a.greedy, a.key, partials);
  sample_finalize_kernel<T><<<a.rows, 32, 0, stream>>>(logits, a.row_stride, a.splits, a.temperature, partials, a.tokens,
                                                       a.logprobs);
  return cudaGetLastError();
}

}  // namespace

int sample_splits(int rows, int vocab, int multiprocessors) {
  const int want = (2 * multiprocessors + rows - 1) / rows;
  const int most = (vocab + kMinColumnsPerSplit - 1) / kMinColumnsPerSplit;
  int splits = want < most ? want : most;
  splits = splits < 1 ? 1 : (splits > kMaxSplits ? kMaxSplits : splits);
  // Chunks are whole 4-column groups (the counter of a draw is its group): round the chunk up
  // to a multiple of 4 and drop splits that would then be empty.
  const int chunk = ((vocab + splits - 1) / splits + 3) / 4 * 4;
  return (vocab + chunk - 1) / chunk;
}

size_t sample_workspace_bytes(int rows, int splits) {
  return static_cast<size_t>(rows) * static_cast<size_t>(splits) * sizeof(Partial);
}

cudaError_t launch_sample(const SampleArgs& args, cudaStream_t stream) {
  if (args.rows == 0) return cudaSuccess;
  return args.type == LogitType::kBFloat16 ? launch_typed<uint16_t>(args, stream) : launch_typed<float>(args, stream);
}

}  // namespace grpo::rollout::kernels
