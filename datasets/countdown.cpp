// Countdown problem generation; see countdown.h.
#include "datasets/countdown.h"

#include <algorithm>

#include "core/error.h"
#include "core/strings.h"
#include "datasets/countdown_solver.h"

namespace grpo::datasets {

namespace {

std::string number_list(const std::vector<int64_t>& numbers) {
  std::vector<std::string> parts;
  for (int64_t n : numbers) parts.push_back(std::to_string(n));
  return "[" + join(parts, ", ") + "]";
}

// Sorted numbers: the same multiset however the numbers are ordered. Decides the split.
std::string numbers_key(std::vector<int64_t> numbers) {
  std::sort(numbers.begin(), numbers.end());
  return "countdown:" + number_list(numbers);
}

// One problem: the multiset and the target.
std::string problem_key(const std::vector<int64_t>& numbers, int64_t target) {
  return numbers_key(numbers) + "=" + std::to_string(target);
}

std::optional<GeneratedProblem> draw_problem(const CountdownOptions& o, Split split, DeterministicRandom& rng) {
  const int64_t count = rng.between(o.min_count, o.max_count);
  std::vector<int64_t> numbers;
  for (int64_t i = 0; i < count; ++i) numbers.push_back(rng.between(o.min_number, o.max_number));
  // Decide the split before the costly search; generate_split checks the same key again.
  const std::string split_key = numbers_key(numbers);
  if (split_of(split_key, o.test_fraction) != split) return std::nullopt;
  const auto targets = reachable_integers(numbers, o.min_target, o.max_target);
  if (targets.empty()) return std::nullopt;
  const int64_t target = targets[rng.below(targets.size())];
  const auto solution = countdown_solution(numbers, target);
  if (!solution) throw Error("countdown: solver disagreement for " + problem_key(numbers, target));
  GeneratedProblem problem;
  problem.key = problem_key(numbers, target);
  problem.split_key = split_key;
  problem.record.prompt = countdown_prompt(numbers, target);
  problem.record.answer = std::to_string(target);
  problem.record.extra = {{"numbers", numbers}, {"target", target}, {"solution", *solution}};
  return problem;
}

}  // namespace

void validate(const CountdownOptions& o) {
  std::vector<std::string> problems;
  auto check = [&](bool ok, const std::string& message) {
    if (!ok) problems.push_back("countdown: " + message);
  };
  check(o.min_count >= 2 && o.max_count <= 5 && o.min_count <= o.max_count,
        "need 2 <= min_count <= max_count <= 5, got " + std::to_string(o.min_count) + ".." +
            std::to_string(o.max_count));
  check(o.min_number >= 1 && o.max_number <= 10000 && o.min_number <= o.max_number,
        "need 1 <= min_number <= max_number <= 10000, got " + std::to_string(o.min_number) + ".." +
            std::to_string(o.max_number));
  check(o.min_target <= o.max_target,
        "need min_target <= max_target, got " + std::to_string(o.min_target) + ".." + std::to_string(o.max_target));
  check(o.test_fraction > 0.0 && o.test_fraction < 1.0,
        "test_fraction must be in (0, 1), got " + std::to_string(o.test_fraction));
  if (!problems.empty()) throw Error(join(problems, "\n"));
}

std::string countdown_prompt(const std::vector<int64_t>& numbers, int64_t target) {
  return "Using the numbers " + number_list(numbers) + ", create an equation that equals " +
         std::to_string(target) +
         ". You can use basic arithmetic operations (+, -, *, /) and each number can only be used once.";
}

std::vector<Record> generate_countdown(const CountdownOptions& options, int64_t count, uint64_t seed, Split split) {
  validate(options);
  const SplitRequest request{"countdown", count, seed, split, options.test_fraction};
  return generate_split(request,
                        [&options, split](DeterministicRandom& rng) { return draw_problem(options, split, rng); });
}

}  // namespace grpo::datasets
