// Times the all-experts MoE decode kernels (model/kernels/moe/expert_gate_up_kernel.cuh and
// model/kernels/moe/expert_down_kernel.cuh) in several configurations on the rollout benchmark's MoE shape
// (64 tokens, hidden 1024, 64 experts of I = 352 with 6 chosen per token, shared I = 704),
// against cuBLAS doing the same gate/up projections (strided-batched bf16 GEMMs, no SwiGLU) and
// against the device's own copy bandwidth measured in the same run (reading the weights once:
// the floor). Prints one JSON object: per configuration the median of 50 launches in
// microseconds, the fraction of the floor, and the largest difference of its output from a
// float32 reference (gate/up) or from the first configuration (down, summed over its splits),
// and the router's time with its weight read from memory.
// Built by the cuda preset as build/cuda/bench/model/bench_moe_decode_sweep (scripts/gpu-check runs it).
#include <cublas_v2.h>

#include <cmath>
#include <cstring>
#include <random>

#include "bench/model/moe_sweep/sweep.h"
#include "core/cuda/bfloat16.cuh"

namespace k = grpo::model::kernels;

namespace {

constexpr int kTokens = 64, kHidden = 1024, kInter = 352, kExperts = 64, kTopK = 6, kSharedInter = 704;

__global__ void fill_bf16(uint16_t* p, int64_t n, uint32_t seed, float scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    uint32_t h = uint32_t(i) * 2654435761u ^ seed;
    h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
    p[i] = grpo::cuda::float_to_bf16((float(h & 0xffff) / 65536.f - 0.5f) * scale);
  }
}

// out[e][n][i] (routed, e < E) or shared[n][j], from float32 dot products: the gate/up reference.
__global__ void gate_up_reference(const uint16_t* x, const uint16_t* w, const float* combine, const uint16_t* sw,
                                  float* out, float* shared_out) {
  const int64_t routed = int64_t(kExperts) * kTokens * kInter, total = routed + int64_t(kTokens) * kSharedInter;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const uint16_t *gate, *up;
    const uint16_t* row = x;
    float weight = 1.f;
    if (o < routed) {
      const int e = int(o / (kTokens * kInter)), n = int(o / kInter % kTokens), i = int(o % kInter);
      row = x + int64_t(n) * kHidden;
      gate = w + (int64_t(e) * 2 * kInter + i) * kHidden;
      up = gate + int64_t(kInter) * kHidden;
      weight = combine[e * kTokens + n];
    } else {
      const int64_t s = o - routed;
      const int n = int(s / kSharedInter), j = int(s % kSharedInter);
      row = x + int64_t(n) * kHidden;
      gate = sw + int64_t(j) * kHidden;
      up = gate + int64_t(kSharedInter) * kHidden;
    }
    float g = 0, u = 0;
    for (int h = 0; h < kHidden; ++h) {
      const float xv = grpo::cuda::bf16_to_float(row[h]);
      g += xv * grpo::cuda::bf16_to_float(gate[h]);
      u += xv * grpo::cuda::bf16_to_float(up[h]);
    }
    const float v = g / (1.f + expf(-g)) * u * weight;
    if (o < routed) out[o] = v; else shared_out[o - routed] = v;
  }
}

__global__ void sum_splits(const float* partials, int splits, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.f;
    for (int j = 0; j < splits; ++j) s += partials[j * n + i];
    out[i] = s;
  }
}

template <class T>
T* device_alloc(int64_t count) {
  T* p = nullptr;
  SWEEP_CHECK(cudaMalloc(&p, count * sizeof(T)));
  return p;
}

std::vector<float> to_host_bf16(const uint16_t* p, int64_t n) {
  std::vector<uint16_t> raw(n);
  SWEEP_CHECK(cudaMemcpy(raw.data(), p, n * 2, cudaMemcpyDeviceToHost));
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = uint32_t(raw[i]) << 16;
    std::memcpy(&out[i], &u, 4);
  }
  return out;
}

std::vector<float> to_host(const float* p, int64_t n) {
  std::vector<float> out(n);
  SWEEP_CHECK(cudaMemcpy(out.data(), p, n * 4, cudaMemcpyDeviceToHost));
  return out;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";  // run just the configuration of this name (for a profiler)
  int sms = 0;
  SWEEP_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const int64_t gate_up_elems = int64_t(kExperts) * 2 * kInter * kHidden, shared_gate_up_elems = 2LL * kSharedInter * kHidden;
  const int64_t down_elems = int64_t(kExperts) * kHidden * kInter, shared_down_elems = int64_t(kHidden) * kSharedInter;
  auto* x = device_alloc<uint16_t>(int64_t(kTokens) * kHidden);
  auto* gate_up = device_alloc<uint16_t>(gate_up_elems);
  auto* shared_gate_up = device_alloc<uint16_t>(shared_gate_up_elems);
  auto* down = device_alloc<uint16_t>(down_elems);
  auto* shared_down = device_alloc<uint16_t>(shared_down_elems);
  fill_bf16<<<1024, 256>>>(x, int64_t(kTokens) * kHidden, 1, 2.f);
  fill_bf16<<<1024, 256>>>(gate_up, gate_up_elems, 2, 0.1f);
  fill_bf16<<<1024, 256>>>(shared_gate_up, shared_gate_up_elems, 3, 0.1f);
  fill_bf16<<<1024, 256>>>(down, down_elems, 4, 0.1f);
  fill_bf16<<<1024, 256>>>(shared_down, shared_down_elems, 5, 0.1f);
  // Routing: each token chooses kTopK distinct experts with weights in (0, 1].
  std::vector<float> combine_host(kExperts * kTokens, 0.f);
  std::mt19937 rng(7);
  for (int n = 0; n < kTokens; ++n) {
    std::vector<int> experts(kExperts);
    for (int e = 0; e < kExperts; ++e) experts[e] = e;
    std::shuffle(experts.begin(), experts.end(), rng);
    for (int j = 0; j < kTopK; ++j) combine_host[experts[j] * kTokens + n] = 0.05f + float(rng() % 1000) / 1000.f;
  }
  auto* combine = device_alloc<float>(kExperts * kTokens);
  SWEEP_CHECK(cudaMemcpy(combine, combine_host.data(), combine_host.size() * 4, cudaMemcpyHostToDevice));
  auto* hidden = device_alloc<uint16_t>(int64_t(kExperts) * kTokens * kInter);
  auto* shared_hidden = device_alloc<uint16_t>(int64_t(kTokens) * kSharedInter);

  // The floor: reading each weight byte once, at half the device-to-device copy time per byte.
  auto* copy_dst = device_alloc<uint16_t>(gate_up_elems);
  const float copy_us = sweep::median_us([&] {
    SWEEP_CHECK(cudaMemcpyAsync(copy_dst, gate_up, gate_up_elems * 2, cudaMemcpyDeviceToDevice));
  });
  const double read_bytes_per_us = 2.0 * gate_up_elems * 2 / copy_us;
  const double gate_up_floor = 2.0 * (gate_up_elems + shared_gate_up_elems) / read_bytes_per_us;
  const double down_floor = 2.0 * (down_elems + shared_down_elems) / read_bytes_per_us;
  std::printf("{\"benchmark\":\"moe_decode_sweep\",\"multiprocessors\":%d,\"copy_TBps\":%.3f,\"gate_up_floor_us\":%.2f,"
              "\"down_floor_us\":%.2f",
              sms, read_bytes_per_us / 2 * 1e-6, gate_up_floor, down_floor);

  // cuBLAS: the routed experts' [64 x 704] projections as one strided-batched GEMM, then the
  // shared experts' [64 x 1408] (what the decode step ran before the fused kernel, less SwiGLU).
  cublasHandle_t handle;
  cublasCreate(&handle);
  auto* projections = device_alloc<uint16_t>(int64_t(kExperts) * kTokens * 2 * kInter);
  auto* shared_projections = device_alloc<uint16_t>(int64_t(kTokens) * 2 * kSharedInter);
  const float one = 1.f, zero = 0.f;
  auto cublas_gate_up = [&] {
    // Column-major: C[2I x N] = W[2I x H] (stored [2I][H] row-major = H x 2I column-major, transposed) * X[H x N].
    cublasGemmStridedBatchedEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, 2 * kInter, kTokens, kHidden, &one, gate_up, CUDA_R_16BF,
                               kHidden, int64_t(2) * kInter * kHidden, x, CUDA_R_16BF, kHidden, 0, &zero, projections,
                               CUDA_R_16BF, 2 * kInter, int64_t(2) * kInter * kTokens, kExperts, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT);
    cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, 2 * kSharedInter, kTokens, kHidden, &one, shared_gate_up, CUDA_R_16BF,
                 kHidden, x, CUDA_R_16BF, kHidden, &zero, shared_projections, CUDA_R_16BF, 2 * kSharedInter,
                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  };
  if (only.empty()) std::printf(",\"cublas_gate_up_us\":%.2f", sweep::median_us(cublas_gate_up));

  // The gate/up kernel against the float32 reference.
  auto* reference = device_alloc<float>(int64_t(kExperts) * kTokens * kInter);
  auto* shared_reference = device_alloc<float>(int64_t(kTokens) * kSharedInter);
  gate_up_reference<<<1024, 256>>>(x, gate_up, combine, shared_gate_up, reference, shared_reference);
  const auto want = to_host(reference, int64_t(kExperts) * kTokens * kInter);
  const auto shared_want = to_host(shared_reference, int64_t(kTokens) * kSharedInter);
  k::ExpertGateUpArgs g;
  g.x = x, g.x_stride = kHidden, g.weight = gate_up, g.combine = combine, g.shared_weight = shared_gate_up;
  g.hidden = hidden, g.shared_hidden = shared_hidden;
  g.tokens = kTokens, g.features = kHidden, g.inter = kInter, g.experts = kExperts, g.shared_inter = kSharedInter;
  std::printf(",\"gate_up\":[");
  bool first = true;
  for (const auto& c : sweep::gate_up_configs()) {
    if (!only.empty() && c.name != only) continue;
    SWEEP_CHECK(cudaMemset(hidden, 0xff, int64_t(kExperts) * kTokens * kInter * 2));  // NaNs where nothing is written
    SWEEP_CHECK(c.launch(g, sms, nullptr));
    SWEEP_CHECK(cudaDeviceSynchronize());
    const float diff = std::max(max_diff(to_host_bf16(hidden, int64_t(kExperts) * kTokens * kInter), want),
                                max_diff(to_host_bf16(shared_hidden, int64_t(kTokens) * kSharedInter), shared_want));
    const float us = sweep::median_us([&] { SWEEP_CHECK(c.launch(g, sms, nullptr)); });
    std::printf("%s{\"config\":\"%s\",\"median_us\":%.2f,\"floor_fraction\":%.3f,\"max_diff\":%.3g}", first ? "" : ",",
                c.name.c_str(), us, gate_up_floor / us, diff);
    first = false;
  }
  std::printf("]");

  // The down projection on the gate/up kernel's activations (zeros where not routed).
  k::ExpertDownArgs a;
  a.hidden = hidden, a.weight = down, a.shared_hidden = shared_hidden, a.shared_hidden_stride = kSharedInter;
  a.shared_weight = shared_down, a.tokens = kTokens, a.features = kHidden, a.inter = kInter, a.experts = kExperts;
  a.shared_inter = kSharedInter;
  const int max_splits = (kExperts * kInter + kSharedInter) / 32;  // one split per 32-wide chunk at most
  auto* partials = device_alloc<float>(int64_t(max_splits) * kTokens * kHidden);
  auto* sum = device_alloc<float>(int64_t(kTokens) * kHidden);
  std::vector<float> down_want;
  std::printf(",\"down\":[");
  first = true;
  for (const auto& c : sweep::down_configs()) {
    if (!only.empty() && c.name != only) continue;
    {
      a.splits = c.splits(a, sms);
      if (a.splits > max_splits) continue;
      a.partials = partials;
      SWEEP_CHECK(c.launch(a, nullptr));
      sum_splits<<<256, 256>>>(partials, a.splits, int64_t(kTokens) * kHidden, sum);
      SWEEP_CHECK(cudaDeviceSynchronize());
      const auto got = to_host(sum, int64_t(kTokens) * kHidden);
      if (down_want.empty()) down_want = got;
      const float us = sweep::median_us([&] { SWEEP_CHECK(c.launch(a, nullptr)); });
      std::printf("%s{\"config\":\"%s\",\"splits\":%d,\"median_us\":%.2f,\"floor_fraction\":%.3f,"
                  "\"max_diff\":%.3g}",
                  first ? "" : ",", c.name.c_str(), a.splits, us, down_floor / us,
                  max_diff(got, down_want));
      first = false;
    }
  }
  std::printf("]");

  // The router (DeepSeek-V3 rule: sigmoid scores, top 6, normalized) on the same tokens, reading
  // its weight from memory as in a decode step (a 256 MiB write between launches evicts it from L2).
  auto* router_weight = device_alloc<uint16_t>(int64_t(kExperts) * kHidden);
  fill_bf16<<<256, 256>>>(router_weight, int64_t(kExperts) * kHidden, 6, 0.1f);
  auto* routing = device_alloc<float>(kExperts * kTokens);
  auto* flush = device_alloc<char>(int64_t(256) << 20);
  k::RouterArgs r;
  r.x = x, r.x_row_stride = kHidden, r.weight = router_weight, r.tokens = kTokens, r.hidden = kHidden;
  r.experts = kExperts, r.top_k = kTopK, r.sigmoid = true, r.normalize = true, r.combine = routing;
  std::printf(",\"router\":[");
  first = true;
  for (const auto& c : sweep::router_configs()) {
    if (!only.empty() && c.name != only) continue;
    const float flush_us = sweep::median_us([&] { SWEEP_CHECK(cudaMemsetAsync(flush, 0, int64_t(256) << 20)); });
    const float us = sweep::median_us([&] {
      SWEEP_CHECK(cudaMemsetAsync(flush, 0, int64_t(256) << 20));
      SWEEP_CHECK(c.launch(r, nullptr));
    });
    std::printf("%s{\"config\":\"%s\",\"median_us\":%.2f}", first ? "" : ",", c.name.c_str(), us - flush_us);
    first = false;
  }
  std::printf("]}\n");
  return 0;
}
