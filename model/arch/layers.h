// Building blocks shared by the architectures: the per-forward context every layer reads, RMSNorm
// (and, for decoding, a residual add fused with it), the SwiGLU MLP, and the two interfaces a
// decoder layer is assembled from (an attention and a feed-forward). Children are registered
// under Hugging Face's names (tensor_names.h). Nothing here knows which architecture it is part of.
#pragma once

#include <torch/torch.h>

#include "model/cache/cache.h"
#include "model/arch/config.h"
#include "model/arch/linear.h"
#include "model/arch/rope.h"

namespace grpo::model {

// Read by every layer of one forward call.
struct ForwardContext {
  torch::Tensor cos, sin;      // [B, T, 1, rope_dim] in the compute dtype (rope_cos_sin: sin is signed)
  // GQA with full-width rotation: [B, T, q + k + v heads, head_dim], contiguous; q and k heads
  // hold cos/sin, v heads the identity (1, 0), so one pass of contiguous kernels rotates a fused
  // qkv projection (strided or broadcast operands would take PyTorch's slow elementwise path).
  // Undefined otherwise (MLA, partial rotary).
  torch::Tensor qkv_cos, qkv_sin;
  torch::Tensor attn_mask;     // [B, 1, T, Tk] bool (true = attend); undefined = plain causal
  // Packed sequences (B = 1, sequences back to back; attention through varlen_attention.h, with
  // attn_mask undefined): [n + 1] int32 start offsets and the longest length. Undefined
  // cu_seqlens = one sequence per row.
  torch::Tensor cu_seqlens;
  int64_t max_seqlen = 0;
  torch::Tensor valid;         // [B, T] bool; undefined = every token is real (router statistics)
  InferenceCache* cache = nullptr;
  const CacheStep* step = nullptr;
  bool record_router_stats = false;
  double balance_loss_alpha = 0.0;  // DeepSeek-V3 sequence-wise balance loss weight; 0 = off
};

// Fills ctx.cos/sin (and qkv_cos/sin where they apply) for `positions` [B, T], in `dtype`.
void set_rope_tables(ForwardContext& ctx, const ModelConfig& config, const RopeFrequencies& freqs,
                     const torch::Tensor& positions, torch::Dtype dtype);

// Output of a feed-forward or a decoder layer: hidden plus an optional auxiliary loss (scalar).
struct LayerOutput {
  torch::Tensor hidden;
  torch::Tensor aux_loss;  // undefined when none
};

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  // x: [..., dim] any float dtype. Normalizes in float32 and casts back before the weight
  // multiply, as transformers does (this decides bf16 agreement).
  torch::Tensor forward(const torch::Tensor& x);
  double eps() const { return eps_; }
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

// A residual add and the norm that follows it, for inference: residual += delta in place, then
// returns norm(residual). residual, delta: [..., hidden] of one shape; residual must be a tensor
// the caller owns (updated in place), and delta must not share its memory. On CUDA in bf16 one
// kernel (fused_add_rms_norm.h) whose norm rounds once as at::rms_norm does; elsewhere exactly
// residual.add_(delta) and norm(residual).
torch::Tensor add_and_norm_(torch::Tensor& residual, const torch::Tensor& delta, RMSNormImpl& norm);
// The same with delta the sum over S of partials [S, rows, hidden] (rows: residual's), e.g. a
// split-K GEMM's float32 partial sums: residual += Σ_s partials[s] in residual's dtype, summed in s
// order and rounded once (partials.sum(0).to(dtype)); on CUDA in bf16 the sum is part of the kernel.
torch::Tensor add_sum_and_norm_(torch::Tensor& residual, const torch::Tensor& partials, RMSNormImpl& norm);

class AttentionBase : public torch::nn::Module {
 public:
  // x: [B, T, hidden] (already normalized) -> [B, T, hidden].
  virtual torch::Tensor forward(const torch::Tensor& x, const ForwardContext& ctx) = 0;
};

class FeedForwardBase : public torch::nn::Module {
 public:
  virtual LayerOutput forward(const torch::Tensor& x, const ForwardContext& ctx) = 0;
};

// silu(gate) * up for h = [..., 2I] holding gate then up (a gate_up_proj output).
torch::Tensor swiglu_activation(const torch::Tensor& gate_up);

// The SwiGLU MLP, down(silu(gate(x)) * up(x)), with gate and up as one projection (one GEMM):
// a dense layer's feed-forward and the shared experts.
class MlpImpl : public FeedForwardBase {
 public:
  MlpImpl(int64_t hidden, int64_t intermediate, bool bias);
  torch::Tensor swiglu(const torch::Tensor& x);  // [..., hidden] -> [..., hidden]
  LayerOutput forward(const torch::Tensor& x, const ForwardContext& ctx) override { return {swiglu(x), {}}; }
  Linear gate_up_proj{nullptr}, down_proj{nullptr};  // [2I, hidden] gate rows first; [hidden, I]
};
TORCH_MODULE(Mlp);

}  // namespace grpo::model
