// Times the split-K expert down projection (rollout/expert_down_kernel.cu) in several pipeline
// configurations on the rollout benchmark's MoE shape (64 tokens, hidden 1024, 64 experts of
// I = 352, shared I = 704), against the device's own copy bandwidth measured in the same run
// (cudaMemcpy of the weight bytes: the floor a pass over the weights cannot beat). Prints one
// JSON object: per configuration the median of 50 launches in microseconds and the fraction of
// the copy floor, and the largest difference of its summed output from the first configuration's.
// Build on a CUDA machine: nvcc -std=c++17 -arch=sm_90 -O3 -I. bench/rollout/expert_down_sweep.cu
#include <algorithm>
#include <cstdio>
#include <vector>

#include "rollout/expert_down_kernel.cu"

namespace k = grpo::rollout::kernels;

namespace {

__global__ void fill_bf16(uint16_t* p, int64_t n, uint32_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    uint32_t h = uint32_t(i) * 2654435761u ^ seed;
    h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
    p[i] = grpo::cuda::float_to_bf16((float(h & 0xffff) / 65536.f - 0.5f) * 0.1f);
  }
}

__global__ void sum_splits(const float* partials, int splits, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.f;
    for (int j = 0; j < splits; ++j) s += partials[j * n + i];
    out[i] = s;
  }
}

#define CHECK(x)                                                                 \
  do {                                                                           \
    cudaError_t e_ = (x);                                                        \
    if (e_ != cudaSuccess) {                                                     \
      std::fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e_));              \
      std::exit(1);                                                              \
    }                                                                            \
  } while (0)

template <class F>
float median_us(F&& launch, int repeats = 50) {
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 5; ++i) launch();
  std::vector<float> times;
  for (int i = 0; i < repeats; ++i) {
    CHECK(cudaEventRecord(a));
    launch();
    CHECK(cudaEventRecord(b));
    CHECK(cudaEventSynchronize(b));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, a, b));
    times.push_back(ms * 1000.f);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main() {
  const int n = 64, h = 1024, inter = 352, experts = 64, shared = 704;
  int sms = 0;
  CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  uint16_t *hidden, *weight, *shared_hidden, *shared_weight;
  const int64_t weight_elems = int64_t(experts) * h * inter;
  CHECK(cudaMalloc(&hidden, int64_t(experts) * n * inter * 2));
  CHECK(cudaMalloc(&weight, weight_elems * 2));
  CHECK(cudaMalloc(&shared_hidden, int64_t(n) * shared * 2));
  CHECK(cudaMalloc(&shared_weight, int64_t(h) * shared * 2));
  fill_bf16<<<1024, 256>>>(hidden, int64_t(experts) * n * inter, 1);
  fill_bf16<<<1024, 256>>>(weight, weight_elems, 2);
  fill_bf16<<<1024, 256>>>(shared_hidden, int64_t(n) * shared, 3);
  fill_bf16<<<1024, 256>>>(shared_weight, int64_t(h) * shared, 4);
  const double bytes = 2.0 * (weight_elems + int64_t(h) * shared);
  float *partials, *sum, *reference;
  const int max_splits = 64 * 8;
  CHECK(cudaMalloc(&partials, int64_t(max_splits) * n * h * 4));
  CHECK(cudaMalloc(&sum, int64_t(n) * h * 4));
  CHECK(cudaMalloc(&reference, int64_t(n) * h * 4));
  void* copy_dst;
  CHECK(cudaMalloc(&copy_dst, weight_elems * 2));
  const float copy_us = median_us([&] { CHECK(cudaMemcpyAsync(copy_dst, weight, weight_elems * 2, cudaMemcpyDeviceToDevice)); });
  // A copy reads and writes its bytes: reading the weights (routed and shared) alone takes half
  // as long per byte.
  const float floor_us = copy_us / 2 * float(bytes / (2.0 * weight_elems));

  k::ExpertDownArgs a;
  a.hidden = hidden, a.weight = weight, a.shared_hidden = shared_hidden, a.shared_hidden_stride = shared;
  a.shared_weight = shared_weight, a.tokens = n, a.features = h, a.inter = inter, a.experts = experts;
  a.shared_inter = shared, a.partials = partials;
  std::printf("{\"benchmark\":\"expert_down_sweep\",\"multiprocessors\":%d,\"weight_bytes\":%.0f,\"copy_us\":%.2f,"
              "\"floor_us\":%.2f,\"configs\":[",
              sms, bytes, copy_us, floor_us);
  bool first = true, have_reference = false;
  auto run = [&](const char* name, auto launch, int blocks_per_sm) {
    a.splits = k::splits_for(n, h, inter, experts, shared, blocks_per_sm * sms);
    if (a.splits > max_splits) return;
    const float us = median_us([&] { CHECK(launch(a, nullptr)); });
    sum_splits<<<256, 256>>>(partials, a.splits, int64_t(n) * h, have_reference ? sum : reference);
    CHECK(cudaDeviceSynchronize());
    float diff = 0;
    if (have_reference) {
      std::vector<float> x(n * h), y(n * h);
      CHECK(cudaMemcpy(x.data(), sum, x.size() * 4, cudaMemcpyDeviceToHost));
      CHECK(cudaMemcpy(y.data(), reference, y.size() * 4, cudaMemcpyDeviceToHost));
      for (size_t i = 0; i < x.size(); ++i) diff = std::max(diff, std::abs(x[i] - y[i]));
    }
    have_reference = true;
    std::printf("%s{\"pipeline\":\"%s\",\"blocks_per_sm\":%d,\"splits\":%d,\"median_us\":%.2f,\"floor_fraction\":%.3f,"
                "\"max_diff\":%.3g}",
                first ? "" : ",", name, blocks_per_sm, a.splits, us, floor_us / us, diff);
    first = false;
  };
  for (int b : {1, 2, 3, 4}) {
    run("4x1", k::launch_with<k::Pipeline<4, 1>>, b);
    run("6x1", k::launch_with<k::Pipeline<6, 1>>, b);
    run("8x1", k::launch_with<k::Pipeline<8, 1>>, b);
    run("3x2", k::launch_with<k::Pipeline<3, 2>>, b);
    run("4x2", k::launch_with<k::Pipeline<4, 2>>, b);
    run("3x4", k::launch_with<k::Pipeline<3, 4>>, b);
  }
  std::printf("]}\n");
  return 0;
}
