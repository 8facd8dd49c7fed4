// Benchmark: token log-probs + entropy, forward and backward, computed in row chunks
// (rl/learner/chunked_logprobs.h) against the plain full-logits version, on CPU or CUDA. Prints
// one JSON object: tokens/s of the chunked version (the figure) beside the full-logits baseline,
// their ratio, median times, and the peak tensor memory of each (CPU: counted through the CPU
// allocator; CUDA: the caching allocator's peak). It does not run a model: hidden states and
// the lm_head are random tensors of the given sizes.
//
//   bench_chunked_logprobs [--device auto|cpu|cuda] [--dtype float32|bfloat16] [--n 4] [--t 256]
//                          [--h 256] [--v 32000] [--chunk 256] [--temperature 0.7] [--repeats 5]
//                          [--skip-full]
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/torch/compat.h"
#include "core/torch/device.h"
#include "rl/learner/chunked_logprobs.h"
#include "tests/rl/cpu_peak_memory.h"

#ifdef GRPO_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

struct Args {
  std::string device = "auto", dtype = "float32";
  int64_t n = 4, t = 256, h = 256, v = 32000, chunk = 256, repeats = 5;
  double temperature = 0.7;
  bool skip_full = false;
};

Args parse_args(int argc, char** argv) {
  Args a;
  std::map<std::string, int64_t*> ints = {{"--n", &a.n}, {"--t", &a.t},         {"--h", &a.h},
                                          {"--v", &a.v}, {"--chunk", &a.chunk}, {"--repeats", &a.repeats}};
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--skip-full") {
      a.skip_full = true;
      continue;
    }
    grpo::require(i + 1 < argc, "bench_chunked_logprobs: " + key + " needs a value");
    const std::string value = argv[++i];
    if (ints.count(key))
      *ints[key] = std::stoll(value);
    else if (key == "--device")
      a.device = value;
    else if (key == "--dtype")
      a.dtype = value;
    else if (key == "--temperature")
      a.temperature = std::stod(value);
    else
      throw grpo::Error("bench_chunked_logprobs: unknown option " + key);
  }
  return a;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

// Peak bytes of tensor memory held while fn runs (above the level at entry).
class PeakMemory {
 public:
  explicit PeakMemory(const torch::Device& device) : device_(device) {
#ifdef GRPO_WITH_CUDA
    if (device_.is_cuda()) {
      c10::cuda::CUDACachingAllocator::resetPeakStats(0);
      base_ = c10::cuda::CUDACachingAllocator::getDeviceStats(0).allocated_bytes[0].current;
      return;
    }
#endif
    cpu_.emplace();
  }
  double bytes() const {
#ifdef GRPO_WITH_CUDA
    if (device_.is_cuda())
      return static_cast<double>(c10::cuda::CUDACachingAllocator::getDeviceStats(0).allocated_bytes[0].peak -
                                 base_);
#endif
    return static_cast<double>(cpu_->peak_bytes());
  }

 private:
  torch::Device device_;
  int64_t base_ = 0;
  std::optional<grpo::testing::CpuPeakMemoryScope> cpu_;
};

struct Measured {
  double median_ms = 0.0, peak_bytes = 0.0;
};

Measured measure(const Args& a, const torch::Device& device,
                 const std::function<grpo::rl::TokenLogProbs()>& run, torch::Tensor& hidden,
                 torch::Tensor& weight) {
  auto once = [&] {
    hidden.mutable_grad() = torch::Tensor();
    weight.mutable_grad() = torch::Tensor();
    auto out = run();
    (out.logprobs.sum() + 0.01 * out.entropy.sum()).backward();
  };
  once();  // warm-up: allocator caches, kernels, thread pools
  synchronize(device);
  Measured m;
  {
    PeakMemory peak(device);
    once();
    synchronize(device);
    m.peak_bytes = peak.bytes();
  }
  std::vector<double> ms;
  for (int64_t r = 0; r < a.repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    once();
    synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  m.median_ms = ms[ms.size() / 2];
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse_args(argc, argv);
    grpo::set_cpu_threads(0);
    const auto device = grpo::parse_device(a.device);
    const auto dtype = grpo::parse_dtype(a.dtype);
    torch::manual_seed(0);
    auto opts = torch::TensorOptions().device(device).dtype(dtype);
    auto hidden = torch::randn({a.n, a.t, a.h}, opts).requires_grad_(true);
    auto weight =
        (torch::randn({a.v, a.h}, opts) * (1.0 / std::sqrt(static_cast<double>(a.h)))).requires_grad_(true);
    auto tokens =
        torch::randint(0, a.v, {a.n, a.t}, torch::TensorOptions().device(device).dtype(torch::kLong));

    grpo::rl::TokenLogProbOptions chunked_opts;
    chunked_opts.chunk_rows = a.chunk;
    chunked_opts.temperature = a.temperature;
    const auto chunked = measure(
        a, device, [&] { return grpo::rl::chunked_token_logprobs(hidden, weight, tokens, {}, chunked_opts); },
        hidden, weight);
    const double tokens_per_step = static_cast<double>(a.n * a.t);

    nlohmann::json out;
    out["benchmark"] = "chunked_logprobs_forward_backward";
    out["device"] = grpo::describe_device(device);
    out["torch"] = grpo::compat::torch_version();
    out["dtype"] = grpo::dtype_name(dtype);
    out["shape"] = {{"n", a.n}, {"t", a.t}, {"hidden", a.h}, {"vocab", a.v}, {"chunk_rows", a.chunk}};
    out["repeats"] = a.repeats;
    out["figure"] = {{"name", "chunked tokens/s"},
                     {"value", tokens_per_step / (chunked.median_ms / 1000.0)},
                     {"median_ms", chunked.median_ms},
                     {"peak_bytes", chunked.peak_bytes}};
    if (!a.skip_full) {
      const auto full = measure(
          a, device,
          [&] { return grpo::rl::full_logits_token_logprobs(hidden, weight, tokens, {}, a.temperature); },
          hidden, weight);
      out["baseline"] = {{"name", "full-logits tokens/s"},
                         {"value", tokens_per_step / (full.median_ms / 1000.0)},
                         {"median_ms", full.median_ms},
                         {"peak_bytes", full.peak_bytes}};
      out["ratio"] = {{"throughput", full.median_ms / chunked.median_ms},
                      {"peak_memory", chunked.peak_bytes / std::max(1.0, full.peak_bytes)}};
    }
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}
