// Packed-sequence attention on a CUDA device (label gpu; skipped without one): in bf16 it runs
// FlashAttention's varlen kernel, whose output and q/k/v gradients must match the float32
// padded-layout path (the CPU's, exact against padded batches) within bf16's tolerance, for GQA
// heads (Qwen2.5-0.5B's 14 query / 2 kv heads of 64) and for MLA's shape (192-wide q/k heads,
// 128-wide values, zero-padded for the kernel), sequences of mixed lengths in one row.
#include <gtest/gtest.h>

#include "model/arch/varlen_attention.h"
#include "test_util.h"
#include "tests/common/cuda.h"

namespace grpo::model {
namespace {

using grpo::testing::kCuda;
using testing::relative_error;

struct Shape {
  const char* name;
  int64_t heads, kv_heads, qk_dim, v_dim;
};

TEST(GpuPackedAttention, VarlenKernelMatchesTheFloat32PaddedLayoutForwardAndBackward) {
  GRPO_REQUIRE_CUDA();
  const std::vector<int32_t> starts = {0, 37, 40, 161, 200, 329};  // lengths 37, 3, 121, 39, 129
  const int64_t total = starts.back(), longest = 129;
  const auto cu_seqlens = torch::tensor(starts, torch::kInt32).to(kCuda);
  for (const Shape s : {Shape{"gqa", 14, 2, 64, 64}, Shape{"mla", 4, 4, 192, 128}}) {
    SCOPED_TRACE(s.name);
    torch::manual_seed(11);
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(kCuda);
    // Inputs representable in bf16, so that the comparison measures the kernel, not their rounding.
    auto draw = [&](int64_t heads, int64_t dim) {
      return torch::randn({1, heads, total, dim}, f32).to(torch::kBFloat16).to(torch::kFloat32);
    };
    const auto q = draw(s.heads, s.qk_dim), k = draw(s.kv_heads, s.qk_dim), v = draw(s.kv_heads, s.v_dim);
    const auto grad = draw(s.heads, s.v_dim);
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.qk_dim));
    auto run = [&](torch::Dtype dtype) {
      // detach(): fresh leaves each run (to(float32) returns q itself, which must not start requiring grad).
      auto leaf = [&](const torch::Tensor& t) { return t.to(dtype).detach().requires_grad_(); };
      auto qd = leaf(q), kd = leaf(k), vd = leaf(v);
      auto out = packed_attention(qd, kd, vd, cu_seqlens, longest, scale);
      (out.to(torch::kFloat32) * grad).sum().backward();
      return std::vector<torch::Tensor>{out.detach().to(torch::kFloat32), qd.grad().to(torch::kFloat32),
                                        kd.grad().to(torch::kFloat32), vd.grad().to(torch::kFloat32)};
    };
    const auto expected = run(torch::kFloat32), got = run(torch::kBFloat16);
    const char* names[] = {"output", "dq", "dk", "dv"};
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].sizes(), expected[i].sizes()) << names[i];
      EXPECT_LT(relative_error(got[i], expected[i]), 2e-2) << names[i];
    }
  }
}

}  // namespace
}  // namespace grpo::model
