// Shuffled resumable batches; see sampler.h.
#include "datasets/sampler.h"

#include <numeric>
#include <utility>

#include "core/error.h"
#include "datasets/deterministic_random.h"

namespace grpo::datasets {

namespace {

constexpr int64_t kStateVersion = 1;

void check_size(int64_t dataset_size) {
  if (dataset_size <= 0) throw Error("sampler: dataset size must be > 0, got " + std::to_string(dataset_size));
}

int64_t integer_field(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || !json[key].is_number_integer()) {
    throw Error(std::string("sampler state: field '") + key + "' must be an integer");
  }
  return json[key].get<int64_t>();
}

}  // namespace

nlohmann::json to_json(const SamplerState& s) {
  return {{"version", kStateVersion},
          {"seed", s.seed},
          {"epoch", s.epoch},
          {"position", s.position},
          {"dataset_size", s.dataset_size}};
}

SamplerState sampler_state_from_json(const nlohmann::json& json) {
  if (!json.is_object()) throw Error("sampler state: expected a JSON object");
  const int64_t version = integer_field(json, "version");
  if (version != kStateVersion) {
    throw Error("sampler state: version " + std::to_string(version) + " is not supported (expected " +
                std::to_string(kStateVersion) + ")");
  }
  SamplerState s;
  if (!json.contains("seed") || !json["seed"].is_number_unsigned()) {
    throw Error("sampler state: field 'seed' must be a non-negative integer");
  }
  s.seed = json["seed"].get<uint64_t>();
  s.epoch = integer_field(json, "epoch");
  s.position = integer_field(json, "position");
  s.dataset_size = integer_field(json, "dataset_size");
  if (s.epoch < 0) throw Error("sampler state: field 'epoch' must be >= 0");
  if (s.dataset_size <= 0) throw Error("sampler state: field 'dataset_size' must be > 0");
  if (s.position < 0 || s.position >= s.dataset_size) {
    throw Error("sampler state: field 'position' must be in [0, dataset_size)");
  }
  return s;
}

std::vector<int64_t> ShuffleSampler::epoch_order(int64_t dataset_size, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(dataset_size));
  std::iota(order.begin(), order.end(), 0);
  DeterministicRandom rng(derive_seed(seed, static_cast<uint64_t>(epoch)));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);  // Fisher-Yates
  return order;
}

ShuffleSampler::ShuffleSampler(int64_t dataset_size, uint64_t seed)
    : ShuffleSampler(dataset_size, SamplerState{seed, 0, 0, dataset_size}) {}

ShuffleSampler::ShuffleSampler(int64_t dataset_size, const SamplerState& state) : state_(state) {
  check_size(dataset_size);
  if (state.dataset_size != dataset_size) {
    throw Error("sampler: the saved state is for a dataset of " + std::to_string(state.dataset_size) +
                " records, this one has " + std::to_string(dataset_size));
  }
  if (state.epoch < 0 || state.position < 0 || state.position >= dataset_size) {
    throw Error("sampler: the saved position (epoch " + std::to_string(state.epoch) + ", position " +
                std::to_string(state.position) + ") is out of range");
  }
  order_ = epoch_order(dataset_size, state_.seed, state_.epoch);
}

std::vector<int64_t> ShuffleSampler::next_batch(int64_t batch_size) {
  if (batch_size <= 0) throw Error("sampler: batch size must be > 0, got " + std::to_string(batch_size));
  std::vector<int64_t> batch;
  batch.reserve(static_cast<size_t>(batch_size));
  while (static_cast<int64_t>(batch.size()) < batch_size) {
    batch.push_back(order_[static_cast<size_t>(state_.position)]);
    if (++state_.position == state_.dataset_size) {
      state_.position = 0;
      ++state_.epoch;
      order_ = epoch_order(state_.dataset_size, state_.seed, state_.epoch);
    }
  }
  return batch;
}

}  // namespace grpo::datasets
