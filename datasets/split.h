// Train / held-out splits for generated tasks. A problem's split is a pure function of its
// canonical key (a hash), never of the seed or the order of generation, so a test set made
// with any seed never shares a problem with a train set made with any other seed.
// generate_split() draws candidates from a seeded stream, keeps those of the wanted split,
// and drops repeats. It knows nothing about particular tasks.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "datasets/deterministic_random.h"
#include "datasets/record.h"

namespace grpo::datasets {

enum class Split { kTrain, kTest };

// "train" or "test"; anything else is a grpo::Error.
Split split_named(const std::string& name);
std::string split_name(Split split);

// kTest for a fraction `test_fraction` (in (0, 1)) of all possible keys, kTrain otherwise.
Split split_of(const std::string& problem_key, double test_fraction);

struct GeneratedProblem {
  std::string key;        // canonical text: equal keys mean the same problem
  std::string split_key;  // decides the split; "" = key. Coarser keys hold out whole families
  Record record;          // id and provenance are filled in by generate_split
};

// Draws one candidate, or nullopt when this draw produced no valid problem.
using ProblemSource = std::function<std::optional<GeneratedProblem>(DeterministicRandom&)>;

struct SplitRequest {
  std::string task;      // names ids ("countdown-train-17") and provenance
  int64_t count = 0;     // records wanted, > 0
  uint64_t seed = 0;
  Split split = Split::kTrain;
  double test_fraction = 0.1;
};

// `count` distinct problems of the requested split, in draw order, deterministic in the
// request. When the problem space runs dry (too many draws without a new problem) it is a
// grpo::Error saying how many were found.
std::vector<Record> generate_split(const SplitRequest& request, const ProblemSource& source);

}  // namespace grpo::datasets
