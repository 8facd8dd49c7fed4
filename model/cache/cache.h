// The inference cache: preallocated per-layer storage for `slots` sequences of up to `max_len`
// tokens, with a length per slot. GQA models cache roped keys and values per KV head; MLA models
// cache only the normalized KV latent and the roped shared key (kv_lora_rank + qk_rope_head_dim
// values per token and layer), decoded with absorbed weights (see mla.h). A prompt prefilled
// once can be forked to n samples with copy_slots. Rows of a batch are right-padded: the valid
// tokens of each row are a prefix of it. It does not page memory or evict; the rollout engine
// decides which slot serves which sequence.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "model/arch/config.h"

namespace grpo::model {

// What one forward call writes: computed once, used by every layer. Callers that keep lengths on
// the device (the rollout engine's decode step) build one directly; begin() builds it otherwise.
struct CacheStep {
  torch::Tensor slots;      // [B] int64, device: the slot of each batch row
  torch::Tensor write_pos;  // [B, T] int64, device: cache row of each token (padding -> scratch row)
  torch::Tensor key_mask;   // [B, 1, T, key_len] bool, device: true = query may attend the key
  torch::Tensor positions;  // [B, T] int64, device: length + t, the default RoPE positions
  int64_t key_len = 0;      // keys visible to this step: max over rows of length + T
  // >= 0: row b uses slot first_slot + b (slots is that range), so the visible keys are a view of
  // the storage instead of a gathered copy; -1: arbitrary slots.
  int64_t first_slot = -1;
  std::vector<int64_t> slot_ids, new_lengths;
};

class InferenceCache {
 public:
  // dtype/device from `options`. MTP layers are not cached.
  InferenceCache(const ModelConfig& config, int64_t slots, int64_t max_len, torch::TensorOptions options);

  bool latent() const { return latent_; }
  int64_t num_slots() const { return static_cast<int64_t>(lengths_.size()); }
  int64_t max_len() const { return max_len_; }
  int64_t length(int64_t slot) const;
  // Truncates (or, for a prefix already written, restores) a slot's length; 0 frees it.
  void set_length(int64_t slot, int64_t length);
  // Copies slot src[i] into slot dst[i] (every layer, whole rows: two kernels per layer tensor
  // whatever the number of pairs), and dst[i]'s length becomes src[i]'s. Destinations must be
  // distinct and none may also be a source.
  void copy_slots(const std::vector<int64_t>& src, const std::vector<int64_t>& dst);
  // Bytes of cache per token for `config` at `dtype` (all layers), and what full multi-head K/V
  // with the same number of heads would take.
  static int64_t bytes_per_token(const ModelConfig& config, torch::Dtype dtype);
  static int64_t mha_bytes_per_token(const ModelConfig& config, torch::Dtype dtype);

  // For the model. slots: [B] int64 (any device); valid: [B, T] bool (device of the cache).
  CacheStep begin(const torch::Tensor& slots, const torch::Tensor& valid) const;
  void commit(const CacheStep& step);
  // GQA: k, v [B, T, Hkv, D] -> all visible keys/values [B, Hkv, key_len, D] (views of the
  // storage when step.first_slot >= 0).
  std::pair<torch::Tensor, torch::Tensor> write_kv(int64_t layer, const CacheStep& step, const torch::Tensor& k,
                                                   const torch::Tensor& v);
  // The visible keys/values of a step without writing (for a caller that wrote the new rows
  // into keys()/values() itself, as the CUDA decode step does).
  std::pair<torch::Tensor, torch::Tensor> visible_kv(int64_t layer, const CacheStep& step) const;
  // MLA: entry [B, T, kv_lora_rank + rope] -> all visible entries [B, key_len, kv_lora_rank + rope].
  torch::Tensor write_latent(int64_t layer, const CacheStep& step, const torch::Tensor& entry);
  // The visible entries of a step without writing (for a caller that wrote the new rows into
  // latents() itself, as the CUDA decode step does).
  torch::Tensor visible_latent(int64_t layer, const CacheStep& step) const;

  // Raw storage per layer (the row at max_len is a scratch row for padding). Keys and values are
  // head-major, [slots, Hkv, max_len + 1, D], so that a block of slots viewed as [B * Hkv, keys, D]
  // needs no copy for batched matmuls; latents are [slots, max_len + 1, kv_lora_rank + rope].
  const std::vector<torch::Tensor>& keys() const { return keys_; }
  const std::vector<torch::Tensor>& values() const { return values_; }
  const std::vector<torch::Tensor>& latents() const { return latents_; }

 private:
  void check_slot(int64_t slot) const;

  bool latent_ = false;
  int64_t max_len_ = 0;
  std::vector<int64_t> lengths_;
  std::vector<torch::Tensor> keys_, values_, latents_;
};

}  // namespace grpo::model
