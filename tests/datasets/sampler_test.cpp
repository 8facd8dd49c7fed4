// The shuffling sampler: per-epoch permutations, determinism in the seed, and a resumed
// sampler (state through JSON text) yielding exactly what an uninterrupted one yields.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "datasets/sampler.h"

namespace grpo::datasets {
namespace {

std::vector<int64_t> draw(ShuffleSampler& sampler, int batches, int64_t batch_size) {
  std::vector<int64_t> out;
  for (int b = 0; b < batches; ++b) {
    const auto batch = sampler.next_batch(batch_size);
    EXPECT_EQ(static_cast<int64_t>(batch.size()), batch_size);
    out.insert(out.end(), batch.begin(), batch.end());
  }
  return out;
}

TEST(ShuffleSampler, ResumedFromJsonEqualsUninterruptedIteration) {
  ShuffleSampler uninterrupted(23, 42);
  const auto expected = draw(uninterrupted, 20, 7);  // 140 indices: six epochs and a part

  ShuffleSampler first(23, 42);
  auto resumed = draw(first, 8, 7);  // stops mid-epoch (56 = 2 * 23 + 10)
  const std::string saved = to_json(first.state()).dump();
  ShuffleSampler second(23, sampler_state_from_json(nlohmann::json::parse(saved)));
  const auto rest = draw(second, 12, 7);
  resumed.insert(resumed.end(), rest.begin(), rest.end());

  EXPECT_EQ(resumed, expected);
  EXPECT_EQ(second.state().epoch, uninterrupted.state().epoch);
  EXPECT_EQ(second.state().position, uninterrupted.state().position);
}

TEST(ShuffleSampler, EachEpochIsAFreshPermutation) {
  ShuffleSampler sampler(10, 3);
  const auto indices = draw(sampler, 10, 3);  // exactly three epochs
  std::vector<int64_t> identity(10);
  std::iota(identity.begin(), identity.end(), 0);
  std::vector<std::vector<int64_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    std::vector<int64_t> epoch(indices.begin() + 10 * e, indices.begin() + 10 * (e + 1));
    epochs.push_back(epoch);
    std::sort(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch, identity) << "epoch " << e;
  }
  EXPECT_NE(epochs[0], epochs[1]);
  EXPECT_NE(epochs[1], epochs[2]);
  EXPECT_EQ(epochs[1], ShuffleSampler::epoch_order(10, 3, 1));
  EXPECT_EQ(sampler.state().epoch, 3);
  EXPECT_EQ(sampler.state().position, 0);
}

TEST(ShuffleSampler, OrderDependsOnlyOnSeedAndEpoch) {
  EXPECT_EQ(ShuffleSampler::epoch_order(100, 9, 4), ShuffleSampler::epoch_order(100, 9, 4));
  EXPECT_NE(ShuffleSampler::epoch_order(100, 9, 4), ShuffleSampler::epoch_order(100, 10, 4));
  EXPECT_NE(ShuffleSampler::epoch_order(100, 9, 4), ShuffleSampler::epoch_order(100, 9, 5));
}

TEST(ShuffleSampler, StateJsonHasAVersionAndEveryField) {
  ShuffleSampler sampler(5, 7);
  sampler.next_batch(3);
  EXPECT_EQ(to_json(sampler.state()).dump(),
            R"({"dataset_size":5,"epoch":0,"position":3,"seed":7,"version":1})");
}

TEST(ShuffleSampler, RejectsAStateFromAnotherDatasetOrOutOfRange) {
  const SamplerState state{7, 1, 2, 5};
  try {
    ShuffleSampler sampler(6, state);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "sampler: the saved state is for a dataset of 5 records, this one has 6");
  }
  try {
    sampler_state_from_json(nlohmann::json::parse(R"({"version":1,"seed":7,"epoch":0,"position":5,"dataset_size":5})"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "sampler state: field 'position' must be in [0, dataset_size)");
  }
  EXPECT_THROW(sampler_state_from_json(nlohmann::json::parse(R"({"version":2})")), Error);
  EXPECT_THROW(ShuffleSampler(0, 1), Error);
}

}  // namespace
}  // namespace grpo::datasets
