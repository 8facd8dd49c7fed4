// SwiGLU kernels; see swiglu_kernel.h.
#include "model/kernels/norm_activation/swiglu_kernel.h"

#include "core/cuda/bfloat16.cuh"

namespace grpo::model::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 8;

__device__ __forceinline__ float load(const float* p) { return *p; }
__device__ __forceinline__ float load(const uint16_t* p) { return cuda::bf16_to_float(*p); }
__device__ __forceinline__ void store(float* p, float v) { *p = v; }
__device__ __forceinline__ void store(uint16_t* p, float v) { *p = cuda::float_to_bf16(v); }

// Eight consecutive values through 16-byte accesses (two for float32) when `kVector`.
template <typename T, bool kVector>
__device__ __forceinline__ void load8(const T* p, float v[kPerThread]) {
  if constexpr (kVector) {
    if constexpr (sizeof(T) == 2) {
      const uint4 w = *reinterpret_cast<const uint4*>(p);
      const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        v[2 * i] = cuda::low_bf16(words[i]);
        v[2 * i + 1] = cuda::high_bf16(words[i]);
      }
    } else {
      const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
      v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
    }
  } else {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) v[i] = load(p + i);
  }
}

template <typename T, bool kVector>
__device__ __forceinline__ void store8(T* p, const float v[kPerThread]) {
  if constexpr (kVector && sizeof(T) == 2) {
    uint16_t h[kPerThread];
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) store(h + i, v[i]);
    uint4 w;
    w.x = h[0] | (static_cast<uint32_t>(h[1]) << 16);
    w.y = h[2] | (static_cast<uint32_t>(h[3]) << 16);
    w.z = h[4] | (static_cast<uint32_t>(h[5]) << 16);
    w.w = h[6] | (static_cast<uint32_t>(h[7]) << 16);
    *reinterpret_cast<uint4*>(p) = w;
  } else if constexpr (kVector) {
    reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
    reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
  } else {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) store(p + i, v[i]);
  }
}

__device__ __forceinline__ float sigmoid(float g) { return 1.f / (1.f + __expf(-g)); }

// Calls cell(row, col) for every cell of the [rows, I] output, grid-stride: a cell is 8
// consecutive columns [col, col + 8) on the vector path, one column on the scalar path (any I).
template <bool kVector, typename Cell>
__device__ __forceinline__ void for_each_cell(int64_t rows, int64_t inter, Cell cell) {
  const int64_t per_row = kVector ? inter / kPerThread : inter;
  const int64_t total = rows * per_row;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * kThreads)
    cell(i / per_row, (i % per_row) * (kVector ? kPerThread : 1));
}

template <typename T, bool kVector>
__global__ void __launch_bounds__(kThreads)
    swiglu_forward_kernel(const T* __restrict__ x, T* __restrict__ out, int64_t rows, int64_t inter,
                          const float* __restrict__ row_scale) {
  for_each_cell<kVector>(rows, inter, [&](int64_t row, int64_t col) {
    const T* g = x + row * 2 * inter + col;
    const float scale = row_scale ? row_scale[row] : 1.f;  // times 1 is exact: unscaled results unchanged
    if constexpr (kVector) {
      float gv[kPerThread], uv[kPerThread], o[kPerThread];
      load8<T, true>(g, gv);
      load8<T, true>(g + inter, uv);
#pragma unroll
      for (int k = 0; k < kPerThread; ++k) o[k] = gv[k] * sigmoid(gv[k]) * uv[k] * scale;
      store8<T, true>(out + row * inter + col, o);
    } else {
      const float gv = load(g);
      store(out + row * inter + col, gv * sigmoid(gv) * load(g + inter) * scale);
    }
  });
}

template <typename T, bool kVector>
__global__ void __launch_bounds__(kThreads)
    swiglu_backward_kernel(const T* __restrict__ x, const T* __restrict__ grad_out, T* __restrict__ grad_x,
                           int64_t rows, int64_t inter) {
  for_each_cell<kVector>(rows, inter, [&](int64_t row, int64_t col) {
    const T* g = x + row * 2 * inter + col;
    T* dg = grad_x + row * 2 * inter + col;
    const T* go = grad_out + row * inter + col;
    constexpr int n = kVector ? kPerThread : 1;
    float gv[kPerThread], uv[kPerThread], gov[kPerThread], dgv[kPerThread], duv[kPerThread];
    if constexpr (kVector) {
      load8<T, true>(g, gv);
      load8<T, true>(g + inter, uv);
      load8<T, true>(go, gov);
    } else {
      gv[0] = load(g), uv[0] = load(g + inter), gov[0] = load(go);
    }
#pragma unroll
    for (int k = 0; k < n; ++k) {
      const float s = sigmoid(gv[k]);
      dgv[k] = gov[k] * uv[k] * s * (1.f + gv[k] * (1.f - s));
      duv[k] = gov[k] * gv[k] * s;
    }
    if constexpr (kVector) {
      store8<T, true>(dg, dgv);
      store8<T, true>(dg + inter, duv);
    } else {
      store(dg, dgv[0]);
      store(dg + inter, duv[0]);
    }
  });
}

int grid_for(int64_t work) {
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 * 8 ? (blocks < 1 ? 1 : blocks) : 65535 * 8);
}

// Vector access needs each row's gate and up halves 16-byte aligned: I a multiple of 8 elements
// (bfloat16) or 4 (float32; two float4 per 8) and an aligned base.
template <typename T>
bool vector_ok(const void* base, int64_t inter) {
  return inter % kPerThread == 0 && reinterpret_cast<uintptr_t>(base) % 16 == 0;
}

template <typename T>
cudaError_t forward_typed(const void* x, void* out, int64_t rows, int64_t inter, const float* row_scale,
                          cudaStream_t stream) {
  const auto* xt = static_cast<const T*>(x);
  auto* ot = static_cast<T*>(out);
  if (vector_ok<T>(x, inter) && vector_ok<T>(out, inter))
    swiglu_forward_kernel<T, true>
        <<<grid_for(rows * inter / kPerThread), kThreads, 0, stream>>>(xt, ot, rows, inter, row_scale);
  else
    swiglu_forward_kernel<T, false><<<grid_for(rows * inter), kThreads, 0, stream>>>(xt, ot, rows, inter, row_scale);
  return cudaGetLastError();
}

template <typename T>
cudaError_t backward_typed(const void* x, const void* grad_out, void* grad_x, int64_t rows, int64_t inter,
                           cudaStream_t stream) {
  const auto* xt = static_cast<const T*>(x);
  const auto* got = static_cast<const T*>(grad_out);
  auto* gxt = static_cast<T*>(grad_x);
  if (vector_ok<T>(x, inter) && vector_ok<T>(grad_out, inter) && vector_ok<T>(grad_x, inter))
    swiglu_backward_kernel<T, true>
        <<<grid_for(rows * inter / kPerThread), kThreads, 0, stream>>>(xt, got, gxt, rows, inter);
  else
    swiglu_backward_kernel<T, false><<<grid_for(rows * inter), kThreads, 0, stream>>>(xt, got, gxt, rows, inter);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_swiglu_forward(const void* x, void* out, int64_t rows, int64_t inter, SwigluType type,
                                  cudaStream_t stream, const float* row_scale) {
  if (rows == 0 || inter == 0) return cudaSuccess;
  return type == SwigluType::kBFloat16 ? forward_typed<uint16_t>(x, out, rows, inter, row_scale, stream)
                                       : forward_typed<float>(x, out, rows, inter, row_scale, stream);
}

cudaError_t launch_swiglu_backward(const void* x, const void* grad_out, void* grad_x, int64_t rows, int64_t inter,
                                   SwigluType type, cudaStream_t stream) {
  if (rows == 0 || inter == 0) return cudaSuccess;
  return type == SwigluType::kBFloat16 ? backward_typed<uint16_t>(x, grad_out, grad_x, rows, inter, stream)
                                       : backward_typed<float>(x, grad_out, grad_x, rows, inter, stream);
}

}  // namespace grpo::model::kernels
