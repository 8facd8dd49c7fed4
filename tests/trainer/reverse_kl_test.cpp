// The chunked full-vocabulary reverse KL: a hand-computed value, zero against itself, and the
// value and both gradients equal to a plain full-logits computation with autograd, with
// vocabularies that differ in padding and masked positions.
#include <gtest/gtest.h>

#include <cmath>

#include "rl/trainer/reverse_kl.h"

using grpo::rl::chunked_reverse_kl;

namespace {

// The definition, on full [N, T, V] logits over the first min(Vs, Vt) ids.
torch::Tensor reference_kl(const torch::Tensor& hs, const torch::Tensor& ws, const torch::Tensor& ht,
                           const torch::Tensor& wt, const torch::Tensor& mask) {
  const int64_t v = std::min(ws.size(0), wt.size(0));
  const auto log_ps = torch::log_softmax(torch::matmul(hs, ws.narrow(0, 0, v).t()), -1);
  const auto log_pt = torch::log_softmax(torch::matmul(ht, wt.narrow(0, 0, v).t()), -1);
  return (log_ps.exp() * (log_ps - log_pt)).sum(-1) * mask;
}

}  // namespace

// Student logits [0, 0] -> p = (1/2, 1/2); teacher logits [0, ln 3] -> q = (1/4, 3/4).
// KL(p || q) = 1/2 ln(2) + 1/2 ln(2/3) = 1/2 ln(4/3) = 0.1438410362.
TEST(ReverseKl, MatchesAHandComputedValue) {
  const auto hs = torch::ones({1, 1, 1}), ws = torch::zeros({2, 1});
  const auto ht = torch::ones({1, 1, 1}), wt = torch::tensor({0.0f, std::log(3.0f)}).reshape({2, 1});
  const auto kl = chunked_reverse_kl(hs, ws, ht, wt, torch::ones({1, 1}));
  EXPECT_NEAR(kl.item<double>(), 0.5 * std::log(4.0 / 3.0), 1e-6);
}

TEST(ReverseKl, IsZeroWithZeroGradientAgainstItself) {
  torch::manual_seed(1);
  const auto hs = torch::randn({2, 3, 4}).requires_grad_(true);
  const auto ws = torch::randn({6, 4}).requires_grad_(true);
  const auto kl = chunked_reverse_kl(hs, ws, hs.detach(), ws.detach(), torch::ones({2, 3}), 2);
  EXPECT_LT(kl.abs().max().item<double>(), 1e-6);
  kl.sum().backward();
  EXPECT_LT(hs.grad().abs().max().item<double>(), 1e-6);
  EXPECT_LT(ws.grad().abs().max().item<double>(), 1e-6);
}

TEST(ReverseKl, ChunkedEqualsFullLogitsInValueAndGradients) {
  torch::manual_seed(2);
  const auto hs = torch::randn({2, 5, 6});
  const auto ws = torch::randn({11, 6});   // student vocabulary 11
  const auto ht = torch::randn({2, 5, 4});
  const auto wt = torch::randn({13, 4});   // teacher vocabulary 13, padded further
  const auto mask = torch::tensor({1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, torch::kFloat32).reshape({2, 5});
  const auto weights = torch::rand({2, 5});

  auto h1 = hs.clone().requires_grad_(true), w1 = ws.clone().requires_grad_(true);
  const auto kl = chunked_reverse_kl(h1, w1, ht, wt, mask, /*chunk_rows=*/3);
  (kl * weights).sum().backward();
  auto h2 = hs.clone().requires_grad_(true), w2 = ws.clone().requires_grad_(true);
  const auto ref = reference_kl(h2, w2, ht, wt, mask);
  (ref * weights).sum().backward();

  EXPECT_TRUE(torch::allclose(kl, ref, 1e-5, 1e-6)) << kl << ref;
  EXPECT_EQ(kl[0][3].item<float>(), 0.0f);  // masked position
  EXPECT_TRUE(torch::allclose(h1.grad(), h2.grad(), 1e-4, 1e-6));
  EXPECT_TRUE(torch::allclose(w1.grad(), w2.grad(), 1e-4, 1e-6));
  EXPECT_GT(w1.grad().abs().sum().item<double>(), 0.0);
}
