// The CUDA optimizer step (label gpu; CUDA builds only, skipped without a device): AdamW's fused
// pass against the same formula in float64 tensor ops on the CPU, over several steps, from bf16
// and float32 gradients, with weight decay, a clip factor and the bf16 rounded copy, on the
// vectorized path and an unaligned one; and the gradient norm from bf16 gradients against float64.
#include <gtest/gtest.h>

#include <cmath>

#include "rl/learner/grad_clip.h"
#include "rl/learner/optimizer.h"
#include "tests/common/cuda.h"

namespace grpo::rl {
namespace {

using grpo::testing::kCuda;

// AdamW in float64 on the CPU, the reference the float32 kernel must track.
struct ReferenceAdamW {
  torch::Tensor p, m, v;
  int64_t t = 0;
  void step(const torch::Tensor& g, const AdamWOptions& o, double wd, double scale) {
    ++t;
    const auto gs = g * scale;
    p = p * (1.0 - o.lr * wd);
    m = o.beta1 * m + (1.0 - o.beta1) * gs;
    v = o.beta2 * v + (1.0 - o.beta2) * gs * gs;
    const double bc1 = 1.0 - std::pow(o.beta1, t), bc2 = 1.0 - std::pow(o.beta2, t);
    p = p - (o.lr / bc1) * m / (v.sqrt() / std::sqrt(bc2) + o.eps);
  }
};

// offset: where the parameter starts in a larger buffer (1 = not 16-byte aligned).
void check(torch::ScalarType grad_dtype, int64_t offset) {
  SCOPED_TRACE(std::string("grad ") + c10::toString(grad_dtype) + ", offset " + std::to_string(offset));
  torch::manual_seed(5);
  const int64_t n = 4099;  // a tail after the last group of 4
  const auto start = torch::randn({n}, torch::kFloat64) * 0.1;
  auto buffer = torch::zeros({n + offset}, torch::TensorOptions().dtype(torch::kFloat32).device(kCuda));
  auto p = buffer.narrow(0, offset, n);
  p.copy_(start);
  p.requires_grad_(false);
  AdamWOptions o;
  o.lr = 1e-2;
  AdamW opt({{{p}, 0.1}}, o);
  ReferenceAdamW ref{start.clone(), torch::zeros({n}, torch::kFloat64), torch::zeros({n}, torch::kFloat64)};
  auto rounded_buffer = torch::zeros({n + offset}, torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda));
  auto rounded = rounded_buffer.narrow(0, offset, n);
  for (int step = 0; step < 5; ++step) {
    const auto g = (torch::randn({n}) * (step + 1)).to(kCuda, grad_dtype);
    AdamWStep in;
    in.grads = {g};
    in.grad_scale = 0.5;
    in.rounded = {rounded};
    opt.step(in);
    ref.step(g.cpu().to(torch::kFloat64), o, 0.1, 0.5);
  }
  const auto got = p.cpu().to(torch::kFloat64);
  EXPECT_LT((got - ref.p).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(torch::equal(rounded.cpu(), p.cpu().to(torch::kBFloat16)));
}

TEST(FusedAdamW, TracksFloat64AdamWFromBf16AndFloat32Gradients) {
  GRPO_REQUIRE_CUDA();
  for (auto dtype : {torch::kBFloat16, torch::kFloat32})
    for (int64_t offset : {0, 1}) check(dtype, offset);
}

TEST(FusedAdamW, GradientNormFromBf16GradientsMatchesFloat64) {
  GRPO_REQUIRE_CUDA();
  torch::manual_seed(6);
  const auto a = torch::randn({1 << 20}).to(kCuda, torch::kBFloat16);
  const auto b = torch::randn({1001}).to(kCuda, torch::kBFloat16).narrow(0, 1, 1000);  // unaligned
  const auto f = torch::randn({77}).to(kCuda);
  const double want = std::sqrt(a.cpu().to(torch::kFloat64).square().sum().item<double>() +
                                b.cpu().to(torch::kFloat64).square().sum().item<double>() +
                                f.cpu().to(torch::kFloat64).square().sum().item<double>());
  const auto report = measure_grad_norm({a, b.contiguous(), f}, 1.0);
  EXPECT_NEAR(report.norm, want, want * 1e-5);
  EXPECT_NEAR(report.scale, 1.0 / (want + 1e-6), 1e-9);
  EXPECT_EQ(measure_grad_norm({a, b.contiguous(), f}, 1.0).norm, report.norm);  // no atomics: the same bits
}

}  // namespace
}  // namespace grpo::rl
