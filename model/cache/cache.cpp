// Inference cache storage and per-step bookkeeping; see cache.h.
#include "model/cache/cache.h"

#include "core/error.h"

namespace grpo::model {

InferenceCache::InferenceCache(const ModelConfig& c, int64_t slots, int64_t max_len, torch::TensorOptions options)
    : latent_(c.is_mla()), max_len_(max_len), lengths_(static_cast<size_t>(slots), 0) {
  require(slots > 0 && max_len > 0, "inference cache: slots and max_len must be positive");
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    if (latent_) {
      latents_.push_back(torch::zeros({slots, max_len + 1, c.kv_lora_rank + c.qk_rope_head_dim}, options));
    } else {
      keys_.push_back(torch::zeros({slots, c.num_key_value_heads, max_len + 1, c.head_dim}, options));
      values_.push_back(torch::zeros({slots, c.num_key_value_heads, max_len + 1, c.head_dim}, options));
    }
  }
}

void InferenceCache::check_slot(int64_t slot) const {
  if (slot < 0 || slot >= num_slots())
    throw Error("inference cache: slot " + std::to_string(slot) + " out of range [0, " + std::to_string(num_slots()) + ")");
}

int64_t InferenceCache::length(int64_t slot) const {
  check_slot(slot);
  return lengths_[slot];
}

void InferenceCache::set_length(int64_t slot, int64_t length) {
  check_slot(slot);
  require(length >= 0 && length <= max_len_, "inference cache: length " + std::to_string(length) + " outside [0, max_len]");
  lengths_[slot] = length;
}

void InferenceCache::copy_slots(const std::vector<int64_t>& src, const std::vector<int64_t>& dst) {
  require(src.size() == dst.size(), "inference cache: copy_slots needs one destination per source");
  if (src.empty()) return;
  std::vector<bool> is_source(static_cast<size_t>(num_slots()), false), is_dest(static_cast<size_t>(num_slots()), false);
  for (size_t i = 0; i < src.size(); ++i) {
    check_slot(src[i]);
    check_slot(dst[i]);
    is_source[src[i]] = true;
  }
  for (int64_t d : dst) {
    require(!is_source[d] && !is_dest[d], "inference cache: copy_slots destination " + std::to_string(d) +
                                              " is also a source or appears twice");
    is_dest[d] = true;
  }
  const auto& any = latent_ ? latents_.front() : keys_.front();
  const auto from = torch::tensor(src, torch::kInt64).to(any.device());
  const auto to = torch::tensor(dst, torch::kInt64).to(any.device());
  for (auto* group : {&keys_, &values_, &latents_})
    for (auto& t : *group) t.index_copy_(0, to, t.index_select(0, from));
  for (size_t i = 0; i < src.size(); ++i) lengths_[dst[i]] = lengths_[src[i]];
}

int64_t InferenceCache::bytes_per_token(const ModelConfig& c, torch::Dtype dtype) {
  const int64_t elem = static_cast<int64_t>(c10::elementSize(dtype));
  const int64_t per_layer = c.is_mla() ? c.kv_lora_rank + c.qk_rope_head_dim : 2 * c.num_key_value_heads * c.head_dim;
  return per_layer * elem * c.num_hidden_layers;
}

int64_t InferenceCache::mha_bytes_per_token(const ModelConfig& c, torch::Dtype dtype) {
  const int64_t elem = static_cast<int64_t>(c10::elementSize(dtype));
  const int64_t per_layer = c.is_mla() ? c.num_attention_heads * (c.qk_head_dim() + c.v_head_dim)
                                       : 2 * c.num_attention_heads * c.head_dim;
  return per_layer * elem * c.num_hidden_layers;
}

CacheStep InferenceCache::begin(const torch::Tensor& slots, const torch::Tensor& valid) const {
  CacheStep step;
  const auto device = valid.device();
  const int64_t batch = valid.size(0), t = valid.size(1);
  auto slots_cpu = slots.to(torch::kCPU, torch::kInt64).contiguous();
  auto counts_cpu = valid.sum(1).to(torch::kCPU, torch::kInt64).contiguous();
  require(slots_cpu.numel() == batch, "inference cache: expected one slot per batch row");
  std::vector<int64_t> lens(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t slot = slots_cpu.data_ptr<int64_t>()[b];
    check_slot(slot);
    lens[b] = lengths_[slot];
    const int64_t new_len = lens[b] + counts_cpu.data_ptr<int64_t>()[b];
    if (new_len > max_len_)
      throw Error("inference cache: slot " + std::to_string(slot) + " would hold " + std::to_string(new_len) +
                  " tokens, more than max_len " + std::to_string(max_len_));
    step.slot_ids.push_back(slot);
    step.new_lengths.push_back(new_len);
    step.key_len = std::max(step.key_len, std::min(lens[b] + t, max_len_));
  }
  step.first_slot = step.slot_ids.front();
  for (int64_t b = 0; b < batch; ++b)
    if (step.slot_ids[b] != step.first_slot + b) step.first_slot = -1;
  auto lens_dev = torch::tensor(lens, torch::kInt64).to(device);
  step.slots = slots_cpu.to(device);
  step.positions = lens_dev.unsqueeze(1) + torch::arange(t, torch::TensorOptions().dtype(torch::kInt64).device(device));
  step.write_pos = torch::where(valid, step.positions, torch::full_like(step.positions, max_len_));
  auto keys = torch::arange(step.key_len, torch::TensorOptions().dtype(torch::kInt64).device(device));
  step.key_mask = (keys.view({1, 1, -1}) <= step.positions.unsqueeze(-1)).unsqueeze(1);
  return step;
}

void InferenceCache::commit(const CacheStep& step) {
  for (size_t i = 0; i < step.slot_ids.size(); ++i) lengths_[step.slot_ids[i]] = step.new_lengths[i];
}

namespace {

// The visible rows [0, key_len) along `seq_dim` of the step's slots: a view for a block of
// consecutive slots, a gather otherwise.
torch::Tensor visible(const torch::Tensor& storage, const CacheStep& step, int64_t seq_dim) {
  if (step.first_slot >= 0)
    return storage.narrow(0, step.first_slot, step.slots.size(0)).narrow(seq_dim, 0, step.key_len);
  return storage.narrow(seq_dim, 0, step.key_len).index_select(0, step.slots);
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> InferenceCache::write_kv(int64_t layer, const CacheStep& step,
                                                                 const torch::Tensor& k, const torch::Tensor& v) {
  using torch::indexing::Slice;
  auto& kc = keys_.at(layer);
  auto& vc = values_.at(layer);
  // Advanced indices around a slice put their dims first: kc[rows, :, pos] is [B, T, Hkv, D].
  auto rows = step.slots.unsqueeze(1).expand_as(step.write_pos);
  kc.index_put_({rows, Slice(), step.write_pos}, k.to(kc.scalar_type()));
  vc.index_put_({rows, Slice(), step.write_pos}, v.to(vc.scalar_type()));
  return visible_kv(layer, step);
}

std::pair<torch::Tensor, torch::Tensor> InferenceCache::visible_kv(int64_t layer, const CacheStep& step) const {
  return {visible(keys_.at(layer), step, 2), visible(values_.at(layer), step, 2)};
}

torch::Tensor InferenceCache::write_latent(int64_t layer, const CacheStep& step, const torch::Tensor& entry) {
  auto& lc = latents_.at(layer);
  auto rows = step.slots.unsqueeze(1).expand_as(step.write_pos);
  lc.index_put_({rows, step.write_pos}, entry.to(lc.scalar_type()));
  return visible_latent(layer, step);
}

torch::Tensor InferenceCache::visible_latent(int64_t layer, const CacheStep& step) const {
  return visible(latents_.at(layer), step, 1);
}

}  // namespace grpo::model
