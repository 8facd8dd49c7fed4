// Hash-based splits and the distinct-problem generation loop; see split.h.
#include "datasets/split.h"

#include <unordered_set>

#include "core/error.h"

namespace grpo::datasets {

// A split holding 10% of a space needs ~10 draws per problem; this many misses in a row
// means the space (at this difficulty) is practically exhausted.
constexpr int64_t kMaxConsecutiveMisses = 100000;

Split split_named(const std::string& name) {
  if (name == "train") return Split::kTrain;
  if (name == "test") return Split::kTest;
  throw Error("unknown split '" + name + "'; valid splits: train, test");
}

std::string split_name(Split split) { return split == Split::kTrain ? "train" : "test"; }

Split split_of(const std::string& problem_key, double test_fraction) {
  const double unit = static_cast<double>(stable_hash(problem_key) >> 11) * 0x1.0p-53;  // in [0, 1)
  return unit < test_fraction ? Split::kTest : Split::kTrain;
}

std::vector<Record> generate_split(const SplitRequest& request, const ProblemSource& source) {
  if (request.count <= 0) throw Error(request.task + ": the number of records must be > 0");
  if (!(request.test_fraction > 0.0 && request.test_fraction < 1.0)) {
    throw Error(request.task + ": test_fraction must be in (0, 1), got " + std::to_string(request.test_fraction));
  }
  // Streams differ per split so that the train and test draws are not the same sequence.
  DeterministicRandom rng(derive_seed(request.seed, request.split == Split::kTrain ? 1 : 2));
  const std::string name = split_name(request.split);
  const std::string origin = request.task + "(seed=" + std::to_string(request.seed) + ", split=" + name + ")";
  std::unordered_set<std::string> seen;
  std::vector<Record> records;
  int64_t misses = 0;  // consecutive draws that gave no new problem of this split
  while (static_cast<int64_t>(records.size()) < request.count && misses < kMaxConsecutiveMisses) {
    auto problem = source(rng);
    if (!problem ||
        split_of(problem->split_key.empty() ? problem->key : problem->split_key, request.test_fraction) !=
            request.split ||
        !seen.insert(problem->key).second) {
      ++misses;
      continue;
    }
    misses = 0;
    Record& record = problem->record;
    record.id = request.task + "-" + name + "-" + std::to_string(records.size());
    record.source = Provenance{origin, static_cast<int>(records.size()) + 1};
    records.push_back(std::move(record));
  }
  if (static_cast<int64_t>(records.size()) < request.count) {
    throw Error(request.task + ": found only " + std::to_string(records.size()) + " distinct " + name +
                " problems of the " + std::to_string(request.count) +
                " requested; widen the difficulty or ask for fewer");
  }
  return records;
}

}  // namespace grpo::datasets
