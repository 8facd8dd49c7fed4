// The causal language model: decoder layers assembled from the architecture's attention and
// feed-forward, the embedding, final norm and output head, and DeepSeek-V3's multi-token
// prediction modules. Modules are registered under Hugging Face's names, so named_parameters()
// plus named_buffers() is the checkpoint's key set (architecture.h's tensor table).
//
// One forward serves training and inference: right-padded [B, T] batches with explicit
// positions and a validity mask, optionally through an InferenceCache (prefill or decode; each
// row names its cache slot), or (training, scoring) sequences packed into one row. It returns
// hidden states after the final norm; logits() is separate so callers can project in chunks and
// never hold full-vocabulary logits for a batch.
// Its one layer loop, run_layers(), is also what the rollout engine's host-free decode step and
// prefill run (cached_forward.h); fused residual norms and dense MoE decode are modes of it.
// Loading and saving are in model_io.h.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "model/cache/cache.h"
#include "model/arch/config.h"
#include "model/arch/layers.h"
#include "model/arch/moe.h"
#include "model/arch/rope.h"

namespace grpo::model {

// How the decoder layers run. Both modes are one loop (CausalLMImpl::run_layers) over the same
// layers; they differ in how a residual add meets the norm after it.
struct LayerLoopOptions {
  // Inference only (grad mode off): each residual add fused with the norm after it, the residual
  // stream updated in place (add_and_norm_: one kernel on CUDA in bf16, exactly the unfused ops
  // elsewhere). Off: out-of-place ops that autograd and activation checkpointing record.
  bool fuse_residual_norms = false;
  // With fuse_residual_norms: MoE layers run every expert on every token (moe_decode.h), which
  // reads nothing on the host in any dtype, so a CUDA graph can capture it; no router statistics.
  bool dense_moe = false;
};

struct ForwardInput {
  torch::Tensor input_ids;       // [B, T] int64
  torch::Tensor positions;       // [B, T] int64; undefined = cache length + t (or t without a cache)
  torch::Tensor attention_mask;  // [B, T] bool/int, nonzero = real token, a prefix of each row; undefined = all real
  // Packed sequences: B = 1 and the row holds sequences back to back, [n + 1] int32 start
  // offsets (then T) on input_ids' device and the longest length; each attends causally to
  // itself only (varlen_attention.h). positions are required, restarting at 0 per sequence. No
  // cache, no attention_mask, no balance loss (its per-sequence statistics would see one sequence).
  torch::Tensor cu_seqlens;
  int64_t max_seqlen = 0;
  InferenceCache* cache = nullptr;
  torch::Tensor cache_slots;     // [B] int64: each row's cache slot (required with a cache)
  bool return_all_hidden = false;
  bool record_router_stats = false;  // accumulate MoE per-expert load (see moe.h)
  double balance_loss_alpha = 0.0;   // DeepSeek-V3 sequence-wise balance loss weight (training)
  LayerLoopOptions layer_loop;       // unfused (the training mode) unless set
};

struct ForwardOutput {
  torch::Tensor hidden;  // [B, T, hidden], after the final norm
  // With return_all_hidden: num_hidden_layers + 1 tensors as transformers returns them: the
  // embeddings, each layer's output, and the last one after the final norm.
  std::vector<torch::Tensor> all_hidden;
  torch::Tensor aux_loss;  // summed balance losses (scalar); undefined when none
};

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const ModelConfig& config, int64_t layer, bool moe);
  // x: [B, T, hidden] -> x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(.)),
  // out of place (autograd, activation checkpointing).
  LayerOutput forward(const torch::Tensor& x, const ForwardContext& ctx);
  // The same layer with each residual add fused with the norm after it (inference): `residual`
  // [B, T, hidden] becomes the layer's output in place; `normed` must be input_layernorm(residual).
  // Returns next_norm(the layer's output): the next layer's input norm or the model's final norm.
  // dense_moe: a MoE feed-forward runs every expert (all_experts_partials). No auxiliary loss.
  torch::Tensor forward_fused_(torch::Tensor& residual, const torch::Tensor& normed, RMSNormImpl& next_norm,
                               const ForwardContext& ctx, bool dense_moe);
  MoeFeedForward* moe() const { return moe_; }

  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  std::shared_ptr<AttentionBase> self_attn;
  std::shared_ptr<FeedForwardBase> mlp;

 private:
  MoeFeedForward* moe_ = nullptr;
};
TORCH_MODULE(DecoderLayer);

class SharedHeadImpl : public torch::nn::Module {
 public:
  SharedHeadImpl(int64_t hidden, double eps);
  RMSNorm norm{nullptr};
};
TORCH_MODULE(SharedHead);

// One MTP module k: h' = eh_proj([enorm(embed(t_{i+k+1})); hnorm(h_i)]), a decoder block, then
// shared_head.norm; the caller applies the shared output head. The block's children are
// registered directly under the module (model.layers.{L}.self_attn...), as checkpoints store them.
class MtpLayerImpl : public torch::nn::Module {
 public:
  MtpLayerImpl(const ModelConfig& config, int64_t layer);
  // hidden, next_embeds: [B, T, hidden] -> [B, T, hidden] (normed by shared_head.norm).
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& next_embeds, const ForwardContext& ctx);
  RMSNorm enorm{nullptr}, hnorm{nullptr};
  Linear eh_proj{nullptr};
  SharedHead shared_head{nullptr};
  DecoderLayer block{nullptr};
};
TORCH_MODULE(MtpLayer);

class ModelBodyImpl : public torch::nn::Module {
 public:
  explicit ModelBodyImpl(const ModelConfig& config);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};  // decoder layers, then MTP modules
  RMSNorm norm{nullptr};
  std::vector<DecoderLayer> decoder;
  std::vector<MtpLayer> mtp;
};
TORCH_MODULE(ModelBody);

class CausalLMImpl : public torch::nn::Module {
 public:
  explicit CausalLMImpl(const ModelConfig& config);
  const ModelConfig& config() const { return config_; }

  ForwardOutput forward(const ForwardInput& input);
  // The one layer loop, for forward() and for callers that build their own context (the host-free
  // decode step and prefill, cached_forward.h): embeds ids [B, T] int64 and runs every decoder
  // layer under ctx in options' mode. Returns the final-norm hidden states [B, T, hidden], the
  // summed balance losses and, with return_all_hidden (unfused mode only), all_hidden as
  // ForwardOutput describes it.
  ForwardOutput run_layers(const torch::Tensor& ids, const ForwardContext& ctx, const LayerLoopOptions& options,
                           bool return_all_hidden = false);
  // hidden: [..., hidden] -> logits [..., vocab] in hidden's dtype.
  torch::Tensor logits(const torch::Tensor& hidden);
  torch::Tensor output_weight();  // [vocab, hidden]: lm_head, or the embedding when tied
  // MTP module k on the main model's final hidden states. next_ids[:, i] is the token after
  // input position i (the caller shifts); positions/mask/cache as in `input` (no cache).
  // Returns [B, T, hidden]; logits(result)[:, i] predicts the token two ahead of position i.
  torch::Tensor mtp_hidden(int64_t k, const torch::Tensor& hidden, const torch::Tensor& next_ids,
                           const ForwardInput& input);

  // Recompute each decoder layer in backward instead of storing its activations (training only).
  void set_activation_checkpointing(bool on) { checkpointing_ = on; }
  std::vector<MoeFeedForward*> moe_layers() const;

  ModelBody model{nullptr};
  Linear lm_head{nullptr};

 private:
  ForwardContext make_context(const ForwardInput& input, CacheStep* step, torch::Tensor* positions);
  LayerOutput run_layer(DecoderLayer& layer, const torch::Tensor& h, const ForwardContext& ctx);

  ModelConfig config_;
  RopeFrequencies rope_;
  bool checkpointing_ = false;
};
TORCH_MODULE(CausalLM);

}  // namespace grpo::model
