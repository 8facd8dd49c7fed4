// Deterministic shuffled batches over a dataset of N records, resumable exactly. Each epoch
// is a fresh permutation drawn from (seed, epoch), so a position (epoch, index within the
// epoch) names the next batch with no other state. A batch that reaches the end of an epoch
// continues into the next epoch's permutation: every batch has the requested size, and each
// record appears once per epoch. The state serializes to JSON for checkpoints. Not
// thread-safe; one sampler per consumer.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace grpo::datasets {

struct SamplerState {
  uint64_t seed = 0;
  int64_t epoch = 0;         // 0-based
  int64_t position = 0;      // records of this epoch already yielded, in [0, dataset_size)
  int64_t dataset_size = 0;  // checked on restore: a checkpoint cannot resume another dataset
};

// {"version": 1, "seed": S, "epoch": E, "position": P, "dataset_size": N}
nlohmann::json to_json(const SamplerState& state);
// Checks the version and every field; problems are a grpo::Error naming the field.
SamplerState sampler_state_from_json(const nlohmann::json& json);

class ShuffleSampler {
 public:
  // dataset_size > 0.
  ShuffleSampler(int64_t dataset_size, uint64_t seed);
  // Resumes at `state`; its dataset_size must equal this dataset's (else a grpo::Error).
  ShuffleSampler(int64_t dataset_size, const SamplerState& state);

  // The next `batch_size` (> 0) record indices, each in [0, dataset_size).
  std::vector<int64_t> next_batch(int64_t batch_size);

  const SamplerState& state() const { return state_; }

  // The permutation of epoch `epoch` for this dataset and seed.
  static std::vector<int64_t> epoch_order(int64_t dataset_size, uint64_t seed, int64_t epoch);

 private:
  SamplerState state_;
  std::vector<int64_t> order_;  // epoch_order for state_.epoch
};

}  // namespace grpo::datasets
