// Batched top-k / top-p / min-p sampling; see sampler.h.
#include "rollout/sampler.h"

#ifdef GRPO_WITH_CUDA
#include "rollout/fused_sampling.h"
#endif

namespace grpo::rollout {

SamplingBatch make_sampling_batch(const std::vector<RowSampling>& rows, const torch::Device& device) {
  const int64_t b = static_cast<int64_t>(rows.size());
  auto temperature = torch::empty({b}, torch::kFloat32), top_p = torch::empty({b}, torch::kFloat32),
       min_p = torch::empty({b}, torch::kFloat32);
  auto top_k = torch::empty({b}, torch::kInt64);
  auto greedy = torch::empty({b}, torch::kBool);
  SamplingBatch out;
  out.all_greedy = b > 0;
  for (int64_t i = 0; i < b; ++i) {
    const auto& r = rows[i];
    const bool g = r.temperature <= 0.0;
    greedy[i] = g;
    temperature[i] = g ? 1.0f : static_cast<float>(r.temperature);
    top_k[i] = r.top_k;
    top_p[i] = static_cast<float>(r.top_p);
    min_p[i] = static_cast<float>(r.min_p);
    out.any_greedy |= g;
    out.all_greedy &= g;
    out.any_top_k |= !g && r.top_k > 0;
    out.any_top_p |= !g && r.top_p < 1.0;
    out.any_min_p |= !g && r.min_p > 0.0;
  }
  out.temperature = temperature.to(device);
  out.greedy = greedy.to(device);
  out.top_k = top_k.to(device);
  out.top_p = top_p.to(device);
  out.min_p = min_p.to(device);
  return out;
}

namespace {

// Log-probs after temperature with filtered-out tokens set to -inf. [B, V] float32.
torch::Tensor filtered_logprobs(const torch::Tensor& scaled_logprobs, const SamplingBatch& batch) {
  auto lp = scaled_logprobs;
  const int64_t vocab = lp.size(-1);
  if (batch.any_min_p) {
    // Keep p >= min_p * p_max, i.e. logp >= log(min_p) + logp_max.
    auto max_lp = std::get<0>(lp.max(-1, /*keepdim=*/true));
    auto threshold = max_lp + batch.min_p.unsqueeze(1).clamp_min(1e-30).log();
    auto drop = (lp < threshold) & (batch.min_p.unsqueeze(1) > 0);
    lp = lp.masked_fill(drop, -std::numeric_limits<float>::infinity());
  }
  if (batch.any_top_k || batch.any_top_p) {
    auto sorted = lp.sort(-1, /*descending=*/true);
    auto values = std::get<0>(sorted), order = std::get<1>(sorted);
    auto rank = torch::arange(vocab, lp.options().dtype(torch::kInt64)).unsqueeze(0);
    auto drop_sorted = torch::zeros_like(values, values.options().dtype(torch::kBool));
    if (batch.any_top_k) {
      auto k = batch.top_k.unsqueeze(1);
      drop_sorted |= (k > 0) & (rank >= k);
    }
    if (batch.any_top_p) {
      // Keep the smallest prefix whose mass reaches top_p: a token is kept when the mass
      // before it is still below top_p (so the top token is always kept).
      auto probs = values.exp();
      auto mass_before = probs.cumsum(-1) - probs;
      drop_sorted |= mass_before >= batch.top_p.unsqueeze(1);
    }
    auto drop = torch::zeros_like(drop_sorted).scatter(-1, order, drop_sorted);
    lp = lp.masked_fill(drop, -std::numeric_limits<float>::infinity());
  }
  return lp;
}

torch::Tensor scaled_logprobs(const torch::Tensor& logits, const SamplingBatch& batch) {
  // bf16 logits / float32 temperatures promote to float32 in the one kernel (float64 logits are
  // brought down to float32 by log_softmax).
  return torch::log_softmax(logits / batch.temperature.unsqueeze(1), -1, torch::kFloat32);
}

}  // namespace

torch::Tensor sampling_distribution(const torch::Tensor& logits, const SamplingBatch& batch) {
  auto lp = filtered_logprobs(scaled_logprobs(logits, batch), batch);
  auto probs = torch::softmax(lp, -1);
  if (batch.any_greedy) {
    auto argmax = logits.to(torch::kFloat32).argmax(-1, /*keepdim=*/true);
    auto one_hot = torch::zeros_like(probs).scatter(-1, argmax, 1.0);
    probs = torch::where(batch.greedy.unsqueeze(1), one_hot, probs);
  }
  return probs;
}

SampledTokens sample_next_tokens(const torch::Tensor& logits, const SamplingBatch& batch, at::Generator& generator) {
#ifdef GRPO_WITH_CUDA
  if (fused_sampling_applies(logits, batch)) return fused_sample_next_tokens(logits, batch, generator);
#endif
  auto lp = scaled_logprobs(logits, batch);
  torch::Tensor tokens;
  if (batch.all_greedy) {
    tokens = lp.argmax(-1);
  } else {
    auto filtered = filtered_logprobs(lp, batch);
    // Exponential race (Gumbel-max in disguise): argmax p_i / E_i with E_i ~ Exp(1) draws i with
    // probability p_i, needs no cumulative sum, and never picks a -inf (filtered) token.
    auto noise = torch::empty_like(filtered).exponential_(1.0, generator).clamp_min_(1e-30);
    tokens = (filtered - noise.log()).argmax(-1);
    if (batch.any_greedy) tokens = torch::where(batch.greedy, lp.argmax(-1), tokens);
  }
  auto chosen = lp.gather(-1, tokens.unsqueeze(1)).squeeze(1);
  return {tokens, chosen};
}

}  // namespace grpo::rollout
