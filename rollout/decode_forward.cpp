// The host-free decode step; see decode_forward.h.
#include "rollout/decode_forward.h"

namespace grpo::rollout {

DecodeForward::DecodeForward(model::CausalLM model, model::InferenceCache* cache)
    : model_(std::move(model)), cache_(cache), rope_(model::rope_frequencies(model_->config())) {
  // On the device once, so that rope_cos_sin copies nothing from the host inside a step.
  rope_.inv_freq = rope_.inv_freq.to(model_->output_weight().device());
}

const torch::Tensor& DecodeForward::counting(int64_t n, const torch::TensorOptions& options) {
  auto& t = counting_[n];
  if (!t.defined()) t = torch::arange(n, options);
  return t;
}

bool DecodeForward::host_free() const {
  if (dense_moe_) return true;
  const auto weight = model_->model->embed_tokens->weight;  // the compute dtype and device
  for (auto* moe : model_->moe_layers())
    if (!moe->experts->host_free(weight)) return false;
  return true;
}

void DecodeForward::run(const torch::Tensor& tokens, const torch::Tensor& lengths, int64_t rows, int64_t key_len,
                        torch::Tensor& logits) {
  model::CacheStep step;
  step.positions = lengths.narrow(0, 0, rows).unsqueeze(1);  // [rows, 1]: the new token's position
  step.slots = counting(rows, lengths.options());
  step.first_slot = 0;
  // A slot's length never exceeds max_len (requests are checked), but rows beyond the running
  // ones (padding of a graph bucket) hold whatever their free slot held: keep their writes in range.
  step.write_pos = step.positions.clamp_max(cache_->max_len());
  step.key_len = key_len;

  model::ForwardContext ctx;
  ctx.cache = cache_;
  ctx.step = &step;
  // Additive [rows, 1, 1, key_len], in the compute dtype, once per step (attention would
  // otherwise convert a boolean mask in every layer): 0 where key <= position, -inf past it.
  if (!mask_values_.defined() || mask_values_.scalar_type() != logits.scalar_type()) {
    mask_values_ = torch::tensor({0.0, -std::numeric_limits<double>::infinity()}, logits.options());
  }
  const auto past = counting(key_len, lengths.options()).view({1, -1}) > step.positions;  // [rows, key_len]
  ctx.attn_mask = torch::where(past, mask_values_[1], mask_values_[0]).view({rows, 1, 1, key_len});
  model::set_rope_tables(ctx, model_->config(), rope_, step.positions, logits.scalar_type());
  // DecoderLayerImpl::forward's math with each residual add fused with the norm after it
  // (model::add_and_norm_): the layer's post-attention norm, then the next layer's input norm or,
  // after the last layer, the model's final norm. h, the residual stream, is updated in place.
  auto h = model_->model->embed_tokens(tokens.narrow(0, 0, rows).unsqueeze(1));  // [rows, 1, hidden]
  auto& decoder = model_->model->decoder;
  auto norm_before = [&](size_t l) -> model::RMSNormImpl& {
    return l < decoder.size() ? *decoder[l]->input_layernorm : *model_->model->norm;
  };
  auto normed = norm_before(0).forward(h);
  for (size_t l = 0; l < decoder.size(); ++l) {
    auto& layer = decoder[l];
    const auto attended = layer->self_attn->forward(normed, ctx);
    normed = model::add_and_norm_(h, attended, *layer->post_attention_layernorm);
    if (dense_moe_ && layer->moe()) {  // the experts' output as partial sums, added inside the norm kernel
      normed = model::add_sum_and_norm_(h, all_experts_partials(*layer->moe(), normed.view({rows, -1})),
                                        norm_before(l + 1));
    } else {
      normed = model::add_and_norm_(h, layer->mlp->forward(normed, ctx).hidden, norm_before(l + 1));
    }
  }
  auto hidden = normed.select(1, 0);  // [rows, hidden], after the final norm
  auto out = logits.narrow(0, 0, rows);
  torch::mm_out(out, hidden, model_->output_weight().t());
}

}  // namespace grpo::rollout
