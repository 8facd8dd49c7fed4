// Padded prompt+completion batches and their completion log-probs, padded or packed; see
// sequence_batch.h.
#include "rl/trainer/sequence_batch.h"

#include <algorithm>

#include "core/error.h"
#include "rl/trainer/packed_batch.h"

namespace grpo::rl {

SequenceBatch make_sequence_batch(const std::vector<std::vector<int64_t>>& prompts,
                                  const std::vector<std::vector<int64_t>>& completions, const torch::Device& device) {
  require(prompts.size() == completions.size(), "make_sequence_batch: prompts and completions differ in count");
  require(!prompts.empty(), "make_sequence_batch: empty batch");
  const int64_t n = static_cast<int64_t>(prompts.size());
  SequenceBatch b;
  int64_t longest = 0, longest_completion = 0;
  for (int64_t i = 0; i < n; ++i) {
    require(!prompts[i].empty(), "make_sequence_batch: row " + std::to_string(i) + " has an empty prompt");
    require(!completions[i].empty(), "make_sequence_batch: row " + std::to_string(i) + " has an empty completion");
    b.prompt_lengths.push_back(static_cast<int64_t>(prompts[i].size()));
    b.completion_lengths.push_back(static_cast<int64_t>(completions[i].size()));
    longest = std::max<int64_t>(longest, prompts[i].size() + completions[i].size());
    longest_completion = std::max<int64_t>(longest_completion, completions[i].size());
  }
  auto ids = torch::zeros({n, longest}, torch::kInt64);
  auto mask = torch::zeros({n, longest}, torch::kBool);
  auto targets = torch::zeros({n, longest_completion}, torch::kInt64);
  auto cmask = torch::zeros({n, longest_completion}, torch::kFloat32);
  auto from = torch::zeros({n, longest_completion}, torch::kInt64);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<bool, 2>();
  auto targets_a = targets.accessor<int64_t, 2>();
  auto cmask_a = cmask.accessor<float, 2>();
  auto from_a = from.accessor<int64_t, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = b.prompt_lengths[i], c = b.completion_lengths[i];
    for (int64_t t = 0; t < p; ++t) ids_a[i][t] = prompts[i][t];
    for (int64_t j = 0; j < c; ++j) {
      ids_a[i][p + j] = completions[i][j];
      targets_a[i][j] = completions[i][j];
      cmask_a[i][j] = 1.0f;
      from_a[i][j] = p + j - 1;
    }
    for (int64_t t = 0; t < p + c; ++t) mask_a[i][t] = true;
  }
  b.input_ids = ids.to(device);
  b.attention_mask = mask.to(device);
  b.targets = targets.to(device);
  b.completion_mask = cmask.to(device);
  b.predict_from = from.to(device);
  return b;
}

torch::Tensor completion_aligned(const SequenceBatch& batch, const std::vector<const std::vector<float>*>& rows,
                                 const torch::Device& device) {
  require(static_cast<int64_t>(rows.size()) == batch.rows(),
          "completion_aligned: " + std::to_string(rows.size()) + " rows of values for a batch of " +
              std::to_string(batch.rows()));
  auto out = torch::zeros(batch.targets.sizes(), torch::kFloat32);
  for (int64_t i = 0; i < batch.rows(); ++i) {
    const auto& values = *rows[static_cast<size_t>(i)];
    const auto n = static_cast<int64_t>(values.size());
    require(n <= batch.completion_lengths[static_cast<size_t>(i)],
            "completion_aligned: row " + std::to_string(i) + " has " + std::to_string(n) + " values for " +
                std::to_string(batch.completion_lengths[static_cast<size_t>(i)]) + " completion tokens");
    if (n > 0) out[i].narrow(0, 0, n).copy_(torch::tensor(values));
  }
  return out.to(device);
}

std::vector<int64_t> sequence_lengths(const SequenceBatch& batch) {
  std::vector<int64_t> lengths(batch.prompt_lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = batch.prompt_lengths[i] + batch.completion_lengths[i];
  return lengths;
}

SequenceBatch select_rows(const SequenceBatch& batch, const std::vector<int64_t>& rows) {
  require(!rows.empty(), "select_rows: no rows");
  SequenceBatch s;
  int64_t longest = 0, longest_completion = 0;
  for (const int64_t i : rows) {
    require(0 <= i && i < batch.rows(), "select_rows: row " + std::to_string(i) + " is outside the batch of " +
                                            std::to_string(batch.rows()));
    s.prompt_lengths.push_back(batch.prompt_lengths[i]);
    s.completion_lengths.push_back(batch.completion_lengths[i]);
    longest = std::max(longest, batch.prompt_lengths[i] + batch.completion_lengths[i]);
    longest_completion = std::max(longest_completion, batch.completion_lengths[i]);
  }
  // Trim the columns first, so that index_select copies only what the micro-batch keeps.
  const auto index = torch::tensor(rows, torch::kInt64).to(batch.input_ids.device());
  auto take = [&](const torch::Tensor& t, int64_t width) { return t.slice(1, 0, width).index_select(0, index); };
  s.input_ids = take(batch.input_ids, longest);
  s.attention_mask = take(batch.attention_mask, longest);
  s.targets = take(batch.targets, longest_completion);
  s.completion_mask = take(batch.completion_mask, longest_completion);
  s.predict_from = take(batch.predict_from, longest_completion);
  return s;
}

namespace {

// Final hidden states at the positions that predict each completion token: [N, Tc, hidden].
torch::Tensor completion_states(model::CausalLM& policy, const SequenceBatch& batch, SequenceLayout layout) {
  model::ForwardInput in;
  // Training forwards count each MoE expert's real tokens (the GRPO learner's router health).
  in.record_router_stats = torch::GradMode::is_enabled();
  if (layout == SequenceLayout::kPadded) {
    in.input_ids = batch.input_ids;
    in.attention_mask = batch.attention_mask;
    auto hidden = policy->forward(in).hidden;  // [N, L, H]
    return hidden.gather(1, batch.predict_from.unsqueeze(-1).expand({-1, -1, hidden.size(-1)}));
  }
  const auto packed = pack_sequences(batch);
  in.input_ids = packed.input_ids;
  in.positions = packed.positions;
  in.cu_seqlens = packed.cu_seqlens;
  in.max_seqlen = packed.max_seqlen;
  auto hidden = policy->forward(in).hidden.squeeze(0);  // [S, H]
  const auto& from = packed.predict_from;
  return hidden.index_select(0, from.reshape({-1})).view({from.size(0), from.size(1), hidden.size(-1)});
}

}  // namespace

TokenLogProbs completion_logprobs(model::CausalLM& policy, const SequenceBatch& batch, double temperature,
                                  SequenceLayout layout, int64_t chunk_rows) {
  TokenLogProbOptions options;
  options.temperature = temperature;
  options.chunk_rows = chunk_rows;
  return chunked_token_logprobs(completion_states(policy, batch, layout), policy->output_weight(), batch.targets,
                                batch.completion_mask, options);
}

}  // namespace grpo::rl
