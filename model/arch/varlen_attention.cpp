// Packed-sequence attention: the varlen kernel, or attend() on a padded layout; see
// varlen_attention.h.
#include "model/arch/varlen_attention.h"

#include "core/torch/compat.h"
#include "model/arch/attention.h"

namespace grpo::model {
namespace {

// Where the packed tokens sit in a padded [n, width] layout, and that layout's attention mask.
struct PaddedLayout {
  int64_t rows = 0, width = 0;
  torch::Tensor slot;  // [T] int64: sequence · width + position of each packed token
  torch::Tensor mask;  // [n, 1, width, width] bool: causal over the sequence's real keys
};

PaddedLayout padded_layout(const torch::Tensor& cu_seqlens, int64_t total, int64_t width) {
  const auto starts = cu_seqlens.to(torch::kInt64);
  const auto lengths = starts.slice(0, 1) - starts.slice(0, 0, -1);
  const auto index = torch::TensorOptions().dtype(torch::kInt64).device(cu_seqlens.device());
  PaddedLayout l;
  l.rows = lengths.size(0);
  l.width = width;
  const auto sequence = torch::repeat_interleave(lengths, c10::optional<int64_t>(total));  // [T]; no host sync
  l.slot = sequence * width + torch::arange(total, index) - starts.index_select(0, sequence);
  // Every query reaches key 0 of its row, so no softmax row is empty, padded query rows included.
  const auto real = torch::arange(width, index).unsqueeze(0) < lengths.unsqueeze(1);  // [n, width]
  const auto causal = torch::ones({width, width}, index.dtype(torch::kBool)).tril();
  l.mask = (causal.unsqueeze(0) & real.unsqueeze(1)).unsqueeze(1);
  return l;
}

// [1, h, T, d] -> [n, h, width, d], zeros in the padding.
torch::Tensor to_padded(const torch::Tensor& x, const PaddedLayout& l) {
  const int64_t heads = x.size(1), dim = x.size(3);
  auto rows = torch::zeros({l.rows * l.width, heads, dim}, x.options()).index_copy(0, l.slot, x[0].transpose(0, 1));
  return rows.view({l.rows, l.width, heads, dim}).transpose(1, 2);
}

// [n, h, width, d] -> [1, h, T, d].
torch::Tensor from_padded(const torch::Tensor& x, const PaddedLayout& l) {
  auto rows = x.transpose(1, 2).reshape({l.rows * l.width, x.size(1), x.size(3)});
  return rows.index_select(0, l.slot).transpose(0, 1).unsqueeze(0);
}

}  // namespace

torch::Tensor packed_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& cu_seqlens, int64_t max_seqlen, double scale) {
  const int64_t total = q.size(2), dv = v.size(3);
  TORCH_CHECK(q.size(0) == 1 && k.size(2) == total && v.size(2) == total,
              "packed_attention: q, k and v must be one packed row of the same tokens");
  if (compat::flash_varlen_supported(q) && dv <= q.size(3)) {
    // [1, h, T, d] -> [T, h, d], contiguous as the kernel reads it.
    auto tokens_first = [](const torch::Tensor& t) { return t.squeeze(0).transpose(0, 1).contiguous(); };
    auto values = dv == q.size(3) ? v : torch::constant_pad_nd(v, {0, q.size(3) - dv});
    auto out = compat::flash_varlen_attention(tokens_first(q), tokens_first(k), tokens_first(values), cu_seqlens,
                                              max_seqlen, scale);  // [T, H, Dq]
    if (out.size(2) != dv) out = out.narrow(2, 0, dv);
    return out.transpose(0, 1).unsqueeze(0);
  }
  const auto layout = padded_layout(cu_seqlens, total, max_seqlen);
  ForwardContext padded;
  padded.attn_mask = layout.mask;
  return from_padded(attend(to_padded(q, layout), to_padded(k, layout), to_padded(v, layout), padded, scale), layout);
}

}  // namespace grpo::model
