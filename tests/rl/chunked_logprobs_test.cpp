// Chunked token log-probs and entropy: hand-computed values with temperature, equality of values
// and gradients with the full-logits computation (to 1e-5, float32) with the logits kept for the
// backward and recomputed in it, the masked positions, the weight gradient added into an
// existing gradient buffer, and peak CPU tensor memory against the unchunked version on a
// moderate size, with and without room to keep the logits.
#include "rl/learner/chunked_logprobs.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "tests/rl/cpu_peak_memory.h"

namespace grpo::rl {
namespace {

constexpr int64_t kRecompute = 0;  // keep_logits_bytes that never keeps the logits

TokenLogProbOptions chunks_of(int64_t rows, double temperature = 1.0, int64_t keep_logits_bytes = kRecompute) {
  TokenLogProbOptions o;
  o.chunk_rows = rows;
  o.temperature = temperature;
  o.keep_logits_bytes = keep_logits_bytes;
  return o;
}

TEST(ChunkedLogProbs, HandComputedWithTemperature) {
  // H = 1, V = 2, W = [[1], [0]], h = ln 3 → logits (ln 3, 0).
  // τ = 1: p = (.75, .25): log p(0) = ln .75 = -.287682, log p(1) = ln .25, H = .562335
  // τ = .5: logits (2 ln 3, 0) → p = (.9, .1): log p(0) = ln .9 = -.105361
  auto w = torch::tensor({{1.0f}, {0.0f}});
  auto h = torch::full({1, 2, 1}, std::log(3.0f));
  auto tokens = torch::tensor({{0, 1}}, torch::kLong);
  auto out = chunked_token_logprobs(h, w, tokens, {}, chunks_of(1));
  EXPECT_NEAR(out.logprobs[0][0].item<float>(), -0.287682, 1e-6);
  EXPECT_NEAR(out.logprobs[0][1].item<float>(), std::log(0.25), 1e-6);
  EXPECT_NEAR(out.entropy[0][0].item<float>(), 0.562335, 1e-6);
  auto cold = chunked_token_logprobs(h, w, tokens, {}, chunks_of(1, 0.5));
  EXPECT_NEAR(cold.logprobs[0][0].item<float>(), -0.105361, 1e-6);
}

TEST(ChunkedLogProbs, LargeLogitsKeepFloat32Precision) {
  // logits (100, 100): log p = ln .5 = -.693147 and H = ln 2, exact to float32 rounding; the
  // form s - logsumexp(s) would lose ~4e-6 here (the float32 spacing at 100 is 7.6e-6).
  auto out = chunked_token_logprobs(torch::full({1, 1, 1}, 100.0f), torch::ones({2, 1}),
                                    torch::zeros({1, 1}, torch::kLong), {}, {});
  EXPECT_NEAR(out.logprobs.item<float>(), -0.693147, 2e-7);
  EXPECT_NEAR(out.entropy.item<float>(), 0.693147, 2e-7);
}

struct Problem {
  torch::Tensor hidden, weight, tokens, mask, g_lp, g_h;
};

// N = 3, T = 7, H = 16, V = 50; right-padded mask; random upstream gradients for both outputs.
Problem random_problem() {
  torch::manual_seed(7);
  Problem p;
  p.hidden = torch::randn({3, 7, 16});
  p.weight = torch::randn({50, 16}) * 0.5;
  p.tokens = torch::randint(0, 50, {3, 7}, torch::kLong);
  p.mask = torch::ones({3, 7});
  p.mask.slice(1, 5, 7)[0].zero_();
  p.mask.slice(1, 2, 7)[2].zero_();
  p.g_lp = torch::randn({3, 7});
  p.g_h = torch::randn({3, 7});
  return p;
}

// Values and the gradients of Σ(g_lp·logp + g_h·H) with respect to hidden and weight.
struct Computed {
  torch::Tensor logprobs, entropy, grad_hidden, grad_weight;
};

template <typename Fn>
Computed compute(const Problem& p, Fn fn) {
  auto h = p.hidden.clone().requires_grad_(true);
  auto w = p.weight.clone().requires_grad_(true);
  TokenLogProbs out = fn(h, w);
  (out.logprobs * p.g_lp + out.entropy * p.g_h).sum().backward();
  return {out.logprobs.detach(), out.entropy.detach(), h.grad(), w.grad()};
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5) << what;
}

TEST(ChunkedLogProbs, ValuesAndGradientsEqualTheFullLogitsComputation) {
  const auto p = random_problem();
  for (const int64_t keep : {kRecompute, int64_t{1} << 20}) {
    for (const int64_t chunk : {1, 4, 7, 64}) {  // chunk sizes that do and do not divide the rows
      for (const bool masked : {false, true}) {
        SCOPED_TRACE("keep " + std::to_string(keep) + ", chunk " + std::to_string(chunk) + (masked ? ", masked" : ""));
        const auto mask = masked ? p.mask : torch::Tensor();
        auto full =
            compute(p, [&](auto& h, auto& w) { return full_logits_token_logprobs(h, w, p.tokens, mask, 0.7); });
        auto chunked = compute(p, [&](auto& h, auto& w) {
          return chunked_token_logprobs(h, w, p.tokens, mask, chunks_of(chunk, 0.7, keep));
        });
        expect_close(chunked.logprobs, full.logprobs, "logprobs");
        expect_close(chunked.entropy, full.entropy, "entropy");
        expect_close(chunked.grad_hidden, full.grad_hidden, "grad hidden");
        expect_close(chunked.grad_weight, full.grad_weight, "grad weight");
      }
    }
  }
}

TEST(ChunkedLogProbs, WeightGradientIsAddedIntoAnExistingGradientBuffer) {
  // MasterWeights keeps each parameter's gradient as a view of a flat buffer: the backward adds
  // into that buffer itself (core/torch/gradient_in_place.h), on both paths.
  const auto p = random_problem();
  const auto want = compute(p, [&](auto& h, auto& w) { return full_logits_token_logprobs(h, w, p.tokens, p.mask, 1.0); });
  for (const int64_t keep : {kRecompute, int64_t{1} << 20}) {
    auto h = p.hidden.clone().requires_grad_(true);
    auto w = p.weight.clone().requires_grad_(true);
    auto flat = torch::full({2 * w.numel()}, 0.5f);
    w.mutable_grad() = flat.narrow(0, w.numel(), w.numel()).view(w.sizes());
    const auto out = chunked_token_logprobs(h, w, p.tokens, p.mask, chunks_of(4, 1.0, keep));
    (out.logprobs * p.g_lp + out.entropy * p.g_h).sum().backward();
    EXPECT_EQ(w.grad().data_ptr(), flat.data_ptr<float>() + w.numel()) << "keep " << keep;
    expect_close(w.grad() - 0.5, want.grad_weight, "grad weight added to the buffer");
    EXPECT_EQ(flat.narrow(0, 0, w.numel()).eq(0.5f).all().item<bool>(), true) << "the rest of the buffer is untouched";
  }
}

TEST(ChunkedLogProbs, MaskedPositionsAreZeroAndGetNoGradient) {
  const auto p = random_problem();
  auto out = compute(
      p, [&](auto& h, auto& w) { return chunked_token_logprobs(h, w, p.tokens, p.mask, chunks_of(4)); });
  EXPECT_EQ(out.logprobs[0][6].item<float>(), 0.0f);
  EXPECT_EQ(out.entropy[2][3].item<float>(), 0.0f);
  EXPECT_EQ(out.grad_hidden[2][4].abs().sum().item<float>(), 0.0f);
  EXPECT_GT(out.grad_hidden[2][1].abs().sum().item<float>(), 0.0f);
}

TEST(ChunkedLogProbs, AllMaskedBatchGivesZerosAndZeroGradients) {
  const auto p = random_problem();
  auto out = compute(p, [&](auto& h, auto& w) {
    return chunked_token_logprobs(h, w, p.tokens, torch::zeros({3, 7}), chunks_of(4));
  });
  EXPECT_EQ(out.logprobs.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(out.grad_hidden.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(out.grad_weight.abs().sum().item<float>(), 0.0f);
}

TEST(ChunkedLogProbs, OnlyTheLogProbGradientIsNeededWhenEntropyIsUnused) {
  const auto p = random_problem();
  auto h = p.hidden.clone().requires_grad_(true);
  auto w = p.weight.clone().requires_grad_(true);
  chunked_token_logprobs(h, w, p.tokens, p.mask, chunks_of(5)).logprobs.sum().backward();
  auto h2 = p.hidden.clone().requires_grad_(true);
  auto w2 = p.weight.clone().requires_grad_(true);
  full_logits_token_logprobs(h2, w2, p.tokens, p.mask, 1.0).logprobs.sum().backward();
  expect_close(h.grad(), h2.grad(), "grad hidden");
  expect_close(w.grad(), w2.grad(), "grad weight");
}

TEST(ChunkedLogProbs, PeakMemoryStaysAtChunkScaleUnlessTheLogitsFitTheBudget) {
  // 512 positions × V 8192: full float32 logits are 16 MiB, and the unchunked forward+backward
  // holds several such tensors. Chunks of 64 rows are 2 MiB each; kept logits are one 16 MiB
  // tensor until the backward.
  torch::manual_seed(3);
  const int64_t n = 4, t = 128, h = 64, v = 8192;
  auto hidden = torch::randn({n, t, h}).requires_grad_(true);
  auto weight = (torch::randn({v, h}) * 0.1).requires_grad_(true);
  auto tokens = torch::randint(0, v, {n, t}, torch::kLong);
  const double logits_bytes = static_cast<double>(n * t * v * 4);

  auto peak_of = [&](auto fn) {
    hidden.mutable_grad() = torch::Tensor();
    weight.mutable_grad() = torch::Tensor();
    testing::CpuPeakMemoryScope scope;
    TokenLogProbs out = fn();
    (out.logprobs.sum() + out.entropy.sum()).backward();
    return static_cast<double>(scope.peak_bytes());
  };
  const double full = peak_of([&] { return full_logits_token_logprobs(hidden, weight, tokens, {}, 1.0); });
  const double chunked =
      peak_of([&] { return chunked_token_logprobs(hidden, weight, tokens, {}, chunks_of(64)); });
  const auto just_too_small = static_cast<int64_t>(logits_bytes) - 1;
  const double over_budget =
      peak_of([&] { return chunked_token_logprobs(hidden, weight, tokens, {}, chunks_of(64, 1.0, just_too_small)); });
  const double kept = peak_of([&] {
    return chunked_token_logprobs(hidden, weight, tokens, {}, chunks_of(64, 1.0, static_cast<int64_t>(logits_bytes)));
  });
  RecordProperty("full_peak_bytes", std::to_string(full));
  RecordProperty("chunked_peak_bytes", std::to_string(chunked));
  RecordProperty("kept_peak_bytes", std::to_string(kept));
  EXPECT_GT(full, 2.0 * logits_bytes);     // the baseline really materialises the logits
  EXPECT_LT(chunked, 0.5 * logits_bytes);  // ≈ a few 2 MiB chunks plus the 2 MiB weight gradient
  EXPECT_LT(chunked * 6.0, full);
  EXPECT_LT(over_budget, 0.5 * logits_bytes);
  EXPECT_GT(kept, logits_bytes);  // the logits, once, plus a chunk's float32 working copy
  EXPECT_LT(kept, 1.5 * logits_bytes);
}

TEST(ChunkedLogProbs, BadInputsAreNamed) {
  auto w = torch::zeros({5, 2});
  auto h = torch::zeros({1, 3, 2});
  try {
    chunked_token_logprobs(h, w, torch::tensor({{0, 7, 1}}, torch::kLong), {}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tokens: id 7 at [0, 1] is outside the vocabulary [0, 5)");
  }
  // An out-of-range id in padding is fine: padding is never looked up.
  EXPECT_NO_THROW(chunked_token_logprobs(h, w, torch::tensor({{0, -100, 1}}, torch::kLong),
                                         torch::tensor({{1, 0, 1}}), {}));
  EXPECT_THROW(chunked_token_logprobs(h, w, torch::zeros({1, 3}, torch::kLong), {}, chunks_of(4, 0.0)),
               Error);
  EXPECT_THROW(chunked_token_logprobs(h, torch::zeros({5, 3}), torch::zeros({1, 3}, torch::kLong), {}, {}),
               Error);
}

}  // namespace
}  // namespace grpo::rl
