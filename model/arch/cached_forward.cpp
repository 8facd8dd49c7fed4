// The host-free decode step and prefill; see cached_forward.h.
#include "model/arch/cached_forward.h"

#include <limits>

namespace grpo::model {
namespace {

// The one layer loop's inference mode: each residual add fused with the norm after it.
LayerLoopOptions fused_loop(bool dense_moe) {
  LayerLoopOptions o;
  o.fuse_residual_norms = true;
  o.dense_moe = dense_moe;
  return o;
}

}  // namespace

PrefillInputs PrefillInputs::view(const torch::Tensor& flat, int64_t rows, int64_t len) {
  const int64_t tokens = rows * len;
  return {flat.narrow(0, 0, tokens).view({rows, len}), flat.narrow(0, tokens, tokens).view({rows, len}),
          flat.narrow(0, 2 * tokens, rows), flat.narrow(0, 2 * tokens + rows, rows)};
}

CachedForward::CachedForward(CausalLM model, InferenceCache* cache)
    : model_(std::move(model)), cache_(cache), rope_(rope_frequencies(model_->config())) {
  // On the device once, so that rope_cos_sin copies nothing from the host inside a step.
  rope_.inv_freq = rope_.inv_freq.to(model_->output_weight().device());
}

const torch::Tensor& CachedForward::counting(int64_t n, const torch::TensorOptions& options) {
  auto& t = counting_[n];
  if (!t.defined()) t = torch::arange(n, options);
  return t;
}

bool CachedForward::moe_modules_host_free() const {
  const auto weight = model_->model->embed_tokens->weight;  // the compute dtype and device
  for (auto* moe : model_->moe_layers())
    if (!moe->experts->host_free(weight)) return false;
  return true;
}

torch::Tensor CachedForward::causal_mask(const torch::Tensor& positions, int64_t key_len, torch::Dtype dtype) {
  // Additive, in the compute dtype, once per call (attention would otherwise convert a boolean
  // mask in every layer).
  if (!mask_values_.defined() || mask_values_.scalar_type() != dtype)
    mask_values_ = torch::tensor({0.0, -std::numeric_limits<double>::infinity()},
                                 torch::TensorOptions().dtype(dtype).device(positions.device()));
  const auto past = counting(key_len, positions.options()).view({1, 1, -1}) > positions.unsqueeze(-1);
  return torch::where(past, mask_values_[1], mask_values_[0]).unsqueeze(1);  // [rows, 1, T, key_len]
}

ForwardContext CachedForward::context(const CacheStep& step, int64_t key_len, torch::Dtype dtype) {
  ForwardContext ctx;
  ctx.cache = cache_;
  ctx.step = &step;
  ctx.attn_mask = causal_mask(step.positions, key_len, dtype);
  set_rope_tables(ctx, model_->config(), rope_, step.positions, dtype);
  return ctx;
}

void CachedForward::decode(const torch::Tensor& tokens, const torch::Tensor& lengths, int64_t rows, int64_t key_len,
                           torch::Tensor& logits) {
  CacheStep step;
  step.positions = lengths.narrow(0, 0, rows).unsqueeze(1);  // [rows, 1]: the new token's position
  step.slots = counting(rows, lengths.options());
  step.first_slot = 0;
  // A slot's length never exceeds max_len (requests are checked), but rows beyond the running
  // ones (padding of a graph bucket) hold whatever their free slot held: keep their writes in range.
  step.write_pos = step.positions.clamp_max(cache_->max_len());
  step.key_len = key_len;
  const auto ctx = context(step, key_len, logits.scalar_type());
  const auto ids = tokens.narrow(0, 0, rows).unsqueeze(1);  // [rows, 1]
  auto hidden = model_->run_layers(ids, ctx, fused_loop(dense_moe_)).hidden.select(1, 0);  // [rows, hidden]
  auto out = logits.narrow(0, 0, rows);
  torch::mm_out(out, hidden, model_->output_weight().t());
}

void CachedForward::prefill(const PrefillInputs& in, torch::Tensor& last_hidden) {
  const int64_t rows = in.ids.size(0), len = in.ids.size(1);
  CacheStep step;
  step.slots = in.slots;  // any slots: the visible keys are gathered
  step.positions = counting(len, in.ids.options()).unsqueeze(0).expand({rows, len});
  // Padding tokens write the scratch row at max_len, which no query ever sees.
  step.write_pos = torch::where(in.valid != 0, step.positions, cache_->max_len());
  step.key_len = len;
  const auto ctx = context(step, len, last_hidden.scalar_type());
  const auto normed = model_->run_layers(in.ids, ctx, fused_loop(/*dense_moe=*/false)).hidden;  // [rows, len, hidden]
  last_hidden.narrow(0, 0, rows).copy_(normed.index({counting(rows, in.ids.options()), in.last}));
}

}  // namespace grpo::model
