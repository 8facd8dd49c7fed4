// Packing a padded batch into one row; see packed_batch.h.
#include "rl/trainer/packed_batch.h"

#include <algorithm>

namespace grpo::rl {

PackedSequences pack_sequences(const SequenceBatch& batch) {
  const int64_t n = batch.rows(), width = batch.input_ids.size(1);
  const auto lengths = sequence_lengths(batch);
  std::vector<int32_t> starts{0};
  std::vector<int64_t> source, positions;  // source: each packed token's index in the flat padded ids
  PackedSequences p;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t length = lengths[static_cast<size_t>(i)];
    for (int64_t t = 0; t < length; ++t) {
      source.push_back(i * width + t);
      positions.push_back(t);
    }
    starts.push_back(static_cast<int32_t>(starts.back() + length));
    p.max_seqlen = std::max(p.max_seqlen, length);
  }
  const auto device = batch.input_ids.device();
  const auto total = static_cast<int64_t>(source.size());
  // A copy even on the CPU: the vectors die here.
  auto to_device = [&](auto& values, torch::Dtype dtype, int64_t count) {
    return torch::from_blob(values.data(), {count}, dtype).to(torch::TensorOptions().device(device), false, true);
  };
  p.input_ids = batch.input_ids.reshape({-1}).index_select(0, to_device(source, torch::kInt64, total)).view({1, total});
  p.positions = to_device(positions, torch::kInt64, total).view({1, total});
  p.cu_seqlens = to_device(starts, torch::kInt32, n + 1);
  // Row i's padded position t is packed position starts[i] + t (padding slots of predict_from are
  // 0 and land on the row's first token; the completion mask ignores them).
  p.predict_from = batch.predict_from + p.cu_seqlens.slice(0, 0, n).to(torch::kInt64).unsqueeze(1);
  return p;
}

}  // namespace grpo::rl
