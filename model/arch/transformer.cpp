// Decoder layers, MTP modules and the causal LM forward; see transformer.h.
#include "model/arch/transformer.h"

#include "core/error.h"
#include "model/arch/activation_checkpoint.h"
#include "model/arch/attention.h"
#include "model/arch/mla.h"
#include "model/arch/moe_decode.h"
#include "model/arch/tensor_names.h"

namespace grpo::model {

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c, int64_t layer, bool moe) {
  input_layernorm = register_module(names::kInputLayernorm, RMSNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm = register_module(names::kPostAttentionLayernorm, RMSNorm(c.hidden_size, c.rms_norm_eps));
  if (c.is_mla()) self_attn = std::make_shared<MlaAttention>(c, layer);
  else self_attn = std::make_shared<GqaAttention>(c, layer);
  register_module(names::kSelfAttn, self_attn);
  if (moe) {
    auto m = std::make_shared<MoeFeedForward>(c);
    moe_ = m.get();
    mlp = m;
  } else {
    mlp = std::make_shared<MlpImpl>(c.hidden_size, c.intermediate_size, c.mlp_bias);
  }
  register_module(names::kMlp, mlp);
}

LayerOutput DecoderLayerImpl::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  auto h = x + self_attn->forward(input_layernorm(x), ctx);
  auto ff = mlp->forward(post_attention_layernorm(h), ctx);
  return {h + ff.hidden, ff.aux_loss};
}

torch::Tensor DecoderLayerImpl::forward_fused_(torch::Tensor& residual, const torch::Tensor& normed,
                                               RMSNormImpl& next_norm, const ForwardContext& ctx, bool dense_moe) {
  const auto ff_in = add_and_norm_(residual, self_attn->forward(normed, ctx), *post_attention_layernorm);
  if (dense_moe && moe_)  // the experts' output as partial sums, added inside the norm kernel
    return add_sum_and_norm_(residual, all_experts_partials(*moe_, ff_in.view({-1, residual.size(-1)})), next_norm);
  return add_and_norm_(residual, mlp->forward(ff_in, ctx).hidden, next_norm);
}

SharedHeadImpl::SharedHeadImpl(int64_t hidden, double eps) {
  norm = register_module(names::kNorm, RMSNorm(hidden, eps));
}

MtpLayerImpl::MtpLayerImpl(const ModelConfig& c, int64_t layer) {
  enorm = register_module(names::kEnorm, RMSNorm(c.hidden_size, c.rms_norm_eps));
  hnorm = register_module(names::kHnorm, RMSNorm(c.hidden_size, c.rms_norm_eps));
  eh_proj = register_module(names::kEhProj, Linear(2 * c.hidden_size, c.hidden_size, false));
  shared_head = register_module(names::kSharedHead, SharedHead(c.hidden_size, c.rms_norm_eps));
  block = DecoderLayer(c, layer, c.n_routed_experts > 0);
  for (const auto& child : block->named_children()) register_module(child.key(), child.value());
}

torch::Tensor MtpLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& next_embeds,
                                    const ForwardContext& ctx) {
  auto h = eh_proj(torch::cat({enorm(next_embeds), hnorm(hidden)}, -1));
  return shared_head->norm(block->forward(h, ctx).hidden);
}

ModelBodyImpl::ModelBodyImpl(const ModelConfig& c) {
  embed_tokens = register_module(names::kEmbedTokens, torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module(names::kLayers, torch::nn::ModuleList());
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    decoder.push_back(DecoderLayer(c, l, c.is_moe_layer(l)));
    layers->push_back(decoder.back());
  }
  for (int64_t k = 0; k < c.num_nextn_predict_layers; ++k) {
    mtp.push_back(MtpLayer(c, c.num_hidden_layers + k));
    layers->push_back(mtp.back());
  }
  norm = register_module(names::kNorm, RMSNorm(c.hidden_size, c.rms_norm_eps));
}

CausalLMImpl::CausalLMImpl(const ModelConfig& c) : config_(c), rope_(rope_frequencies(c)) {
  model = register_module(names::kModel, ModelBody(c));
  if (!c.tie_word_embeddings) lm_head = register_module(names::kLmHead, Linear(c.hidden_size, c.vocab_size, false));
}

torch::Tensor CausalLMImpl::output_weight() { return lm_head ? lm_head->weight : model->embed_tokens->weight; }

torch::Tensor CausalLMImpl::logits(const torch::Tensor& hidden) {
  return torch::nn::functional::linear(hidden, output_weight().to(hidden.scalar_type()));
}

std::vector<MoeFeedForward*> CausalLMImpl::moe_layers() const {
  std::vector<MoeFeedForward*> out;
  for (const auto& layer : model->decoder)
    if (layer->moe()) out.push_back(layer->moe());
  return out;
}

namespace {

// Packed sequences are one row of whole sequences, attended without a cache or a padding mask.
// The sequence-wise balance loss is refused rather than computed over the row as one sequence.
void check_packing(const ForwardInput& in) {
  const auto& cu = in.cu_seqlens;
  require(in.input_ids.size(0) == 1, "forward: packed sequences (cu_seqlens) need input_ids of one row [1, T], got " +
                                         std::to_string(in.input_ids.size(0)) + " rows");
  require(cu.dim() == 1 && cu.size(0) >= 2 && cu.scalar_type() == torch::kInt32,
          "forward: cu_seqlens must be [n + 1] int32 with n >= 1 sequences");
  require(!in.cache && !in.attention_mask.defined(),
          "forward: packed sequences (cu_seqlens) run without a cache and without attention_mask");
  require(in.balance_loss_alpha == 0.0,
          "forward: balance_loss_alpha > 0 with packed sequences (cu_seqlens): the sequence-wise balance loss needs "
          "one sequence per row, so pass the batch padded");
  require(in.positions.defined(), "forward: packed sequences need positions (restarting at 0 per sequence)");
  require(in.max_seqlen >= 1, "forward: packed sequences need max_seqlen >= 1, got " + std::to_string(in.max_seqlen));
}

}  // namespace

// Positions, RoPE tables and the attention mask shared by all layers of one call.
ForwardContext CausalLMImpl::make_context(const ForwardInput& in, CacheStep* step, torch::Tensor* positions) {
  const auto& ids = in.input_ids;
  require(ids.dim() == 2 && ids.scalar_type() == torch::kInt64, "forward: input_ids must be [B, T] int64");
  const int64_t b = ids.size(0), t = ids.size(1);
  const auto dev = ids.device();
  ForwardContext ctx;
  if (in.attention_mask.defined()) {
    require(in.attention_mask.sizes() == ids.sizes(), "forward: attention_mask must match input_ids' shape [B, T]");
    ctx.valid = in.attention_mask.to(torch::kBool);
  }
  ctx.record_router_stats = in.record_router_stats;
  ctx.balance_loss_alpha = in.balance_loss_alpha;
  if (in.cu_seqlens.defined()) check_packing(in);
  ctx.cu_seqlens = in.cu_seqlens;
  ctx.max_seqlen = in.max_seqlen;
  *positions = in.positions;
  if (in.cache) {
    require(in.cache_slots.defined(), "forward: a cache needs cache_slots ([B] int64)");
    auto valid = ctx.valid.defined() ? ctx.valid : torch::ones({b, t}, torch::TensorOptions().dtype(torch::kBool).device(dev));
    *step = in.cache->begin(in.cache_slots, valid);
    ctx.cache = in.cache;
    ctx.step = step;
    ctx.attn_mask = step->key_mask;
    if (!positions->defined()) *positions = step->positions;
  } else {
    if (!positions->defined()) *positions = torch::arange(t, ids.options()).unsqueeze(0).expand({b, t});
    if (ctx.valid.defined()) {
      // causal, keys must be real tokens; the diagonal stays open so padded rows never see an empty row
      auto causal = torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(dev)).tril();
      auto eye = torch::eye(t, torch::TensorOptions().dtype(torch::kBool).device(dev));
      ctx.attn_mask = (causal.unsqueeze(0) & (ctx.valid.unsqueeze(1) | eye.unsqueeze(0))).unsqueeze(1);
    }
  }
  require(positions->sizes() == ids.sizes(), "forward: positions must match input_ids' shape [B, T]");
  set_rope_tables(ctx, config_, rope_, *positions, output_weight().scalar_type());
  return ctx;
}

LayerOutput CausalLMImpl::run_layer(DecoderLayer& layer, const torch::Tensor& h, const ForwardContext& ctx) {
  if (!(checkpointing_ && is_training() && torch::GradMode::is_enabled() && !ctx.cache)) return layer->forward(h, ctx);
  auto impl = layer.ptr();
  auto fn = [impl, ctx](const torch::Tensor& x, bool recompute) {
    ForwardContext local = ctx;
    if (recompute) local.record_router_stats = false;  // counted once, in the first pass
    auto out = impl->forward(x, local);
    auto aux = out.aux_loss.defined() ? out.aux_loss : torch::zeros({}, x.options());
    return std::vector<torch::Tensor>{out.hidden, aux};
  };
  auto outs = checkpoint(fn, h);
  return {outs[0], ctx.balance_loss_alpha > 0.0 ? outs[1] : torch::Tensor()};
}

ForwardOutput CausalLMImpl::forward(const ForwardInput& in) {
  CacheStep step;
  torch::Tensor positions;
  const auto ctx = make_context(in, &step, &positions);
  auto out = run_layers(in.input_ids, ctx, in.layer_loop, in.return_all_hidden);
  if (in.cache) in.cache->commit(step);
  return out;
}

ForwardOutput CausalLMImpl::run_layers(const torch::Tensor& ids, const ForwardContext& ctx,
                                       const LayerLoopOptions& options, bool return_all_hidden) {
  const bool fused = options.fuse_residual_norms;
  require(!options.dense_moe || fused, "run_layers: dense_moe needs fuse_residual_norms");
  require(!fused || !torch::GradMode::is_enabled(),
          "run_layers: fuse_residual_norms updates the residual stream in place; it needs grad mode off");
  require(!fused || !return_all_hidden, "run_layers: return_all_hidden needs fuse_residual_norms off");
  auto& decoder = model->decoder;
  // Fused: the norm before layer l's attention, or after the last layer the model's final norm.
  auto norm_before = [&](size_t l) -> RMSNormImpl& {
    return l < decoder.size() ? *decoder[l]->input_layernorm : *model->norm;
  };
  ForwardOutput out;
  auto h = model->embed_tokens(ids);  // the residual stream [B, T, hidden]
  torch::Tensor normed = fused ? norm_before(0).forward(h) : torch::Tensor();  // fused: norm_before(l)(h)
  for (size_t l = 0; l < decoder.size(); ++l) {
    if (fused) {
      normed = decoder[l]->forward_fused_(h, normed, norm_before(l + 1), ctx, options.dense_moe);
      continue;
    }
    if (return_all_hidden) out.all_hidden.push_back(h);
    auto r = run_layer(decoder[l], h, ctx);
    h = r.hidden;
    if (r.aux_loss.defined()) out.aux_loss = out.aux_loss.defined() ? out.aux_loss + r.aux_loss : r.aux_loss;
  }
  out.hidden = fused ? normed : model->norm(h);
  if (return_all_hidden) out.all_hidden.push_back(out.hidden);
  return out;
}

torch::Tensor CausalLMImpl::mtp_hidden(int64_t k, const torch::Tensor& hidden, const torch::Tensor& next_ids,
                                       const ForwardInput& input) {
  require(k >= 0 && k < static_cast<int64_t>(model->mtp.size()),
          "mtp_hidden: module " + std::to_string(k) + " does not exist (model has " +
              std::to_string(model->mtp.size()) + " MTP modules)");
  require(!input.cache, "mtp_hidden: runs without a cache");
  ForwardInput shaped = input;
  shaped.input_ids = next_ids;
  CacheStep step;
  torch::Tensor positions;
  const auto ctx = make_context(shaped, &step, &positions);
  return model->mtp[k]->forward(hidden, model->embed_tokens(next_ids), ctx);
}

}  // namespace grpo::model
