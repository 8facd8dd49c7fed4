// The CUDA path of chunked_token_logprobs (label gpu; CUDA builds only, skipped without a
// device): bf16 log-probs, entropies and both gradients through the one-pass kernels, against
// float64 autograd from the same bf16 logits, on the vector path (V a multiple of 8) and the
// scalar one, with a temperature, a mask, chunks that split the rows, with and without an
// entropy gradient, and with the logits kept for the backward or recomputed in it.
#include <gtest/gtest.h>

#include "rl/learner/chunked_logprobs.h"
#include "tests/common/cuda.h"

namespace grpo::rl {
namespace {

using grpo::testing::kCuda;

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got.to(torch::kFloat64) - want.to(torch::kFloat64)).norm().item<double>() /
         std::max(want.to(torch::kFloat64).norm().item<double>(), 1e-30);
}

void check(int64_t vocab, bool entropy_gradient, bool keep_logits) {
  SCOPED_TRACE("V = " + std::to_string(vocab) + (entropy_gradient ? ", with" : ", without") + " entropy gradient" +
               (keep_logits ? ", logits kept" : ", logits recomputed"));
  torch::manual_seed(11);
  const int64_t n = 3, t = 37, width = 64;
  const double temperature = 0.7;
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  const auto hidden = torch::randn({n, t, width}, bf16);
  const auto weight = (torch::randn({vocab, width}) * 0.4).to(kCuda, torch::kBFloat16);
  const auto tokens = torch::randint(0, vocab, {n, t}, torch::kInt64).to(kCuda);
  auto mask = torch::ones({n, t}, torch::kFloat32);
  mask[0].narrow(0, 30, 7).zero_();
  mask[2].narrow(0, 11, 26).zero_();
  mask = mask.to(kCuda);
  const auto g_lp = torch::randn({n, t}).to(kCuda), g_h = torch::randn({n, t}).to(kCuda);

  auto h = hidden.clone().requires_grad_(true), w = weight.clone().requires_grad_(true);
  TokenLogProbOptions options;
  options.temperature = temperature;
  options.chunk_rows = 40;  // three chunks over the 77 unmasked rows
  options.keep_logits_bytes = keep_logits ? int64_t{1} << 30 : 0;
  const auto out = chunked_token_logprobs(h, w, tokens, mask, options);
  auto loss = (out.logprobs * g_lp).sum();
  if (entropy_gradient) loss = loss + (out.entropy * g_h).sum();
  loss.backward();

  // Reference: the same bf16 logits in float64, differentiated by autograd, and the chain rule
  // through z = h·Wᵀ in float64.
  const auto z = torch::matmul(hidden.reshape({n * t, width}), weight.t());
  auto z64 = z.to(torch::kFloat64).requires_grad_(true);
  const auto log_p = torch::log_softmax(z64 / temperature, -1);
  const auto want_lp = log_p.gather(1, tokens.reshape({-1, 1})).reshape({n, t}) * mask;
  const auto want_h = -(log_p.exp() * log_p).sum(-1).reshape({n, t}) * mask;
  auto ref_loss = (want_lp * g_lp).sum();
  if (entropy_gradient) ref_loss = ref_loss + (want_h * g_h).sum();
  ref_loss.backward();
  const auto gz = z64.grad();
  const auto want_grad_h = torch::matmul(gz, weight.to(torch::kFloat64)).reshape({n, t, width});
  const auto want_grad_w = torch::matmul(gz.t(), hidden.reshape({n * t, width}).to(torch::kFloat64));

  const double lp_err = (out.logprobs.to(torch::kFloat64) - want_lp).abs().max().item<double>();
  const double h_err = (out.entropy.to(torch::kFloat64) - want_h).abs().max().item<double>();
  const double gh_err = relative_error(h.grad(), want_grad_h), gw_err = relative_error(w.grad(), want_grad_w);
  std::cout << "[gpu logprob rows] V " << vocab << (keep_logits ? " kept" : " recomputed") << ": logprob max abs err " << lp_err << ", entropy " << h_err
            << ", grad hidden rel " << gh_err << ", grad weight rel " << gw_err << "\n";
  EXPECT_LE(lp_err, 2e-4);  // float32 arithmetic over the same logits
  EXPECT_LE(h_err, 2e-4);
  EXPECT_LE(gh_err, 1.5e-2);  // the logit gradient is rounded to bf16 (4e-3) before the matmuls
  EXPECT_LE(gw_err, 1.5e-2);
}

TEST(GpuLogProbRows, MatchFloat64AutogradOfTheSameLogits) {
  GRPO_REQUIRE_CUDA();
  for (const bool keep : {false, true}) {
    check(32000, true, keep);
    check(32000, false, keep);
    check(4099, true, keep);  // not a multiple of 8: the scalar path
  }
}

}  // namespace
}  // namespace grpo::rl
