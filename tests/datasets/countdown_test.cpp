// Countdown generation: determinism in the seed, every target reachable (checked by a brute
// force written independently here: all orders x all bracketings), reference solutions that
// evaluate to the target using each number once, and disjoint train/test splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <numeric>
#include <set>

#include "core/error.h"
#include "datasets/countdown.h"
#include "datasets/countdown_solver.h"

namespace grpo::datasets {
namespace {

// Exact rationals for the independent checks (values stay far below 2^63 for these sizes).
struct Q {
  int64_t n = 0, d = 1;
  Q(int64_t num = 0, int64_t den = 1) {
    if (den < 0) num = -num, den = -den;
    const int64_t g = std::gcd(num, den);
    n = g ? num / g : 0;
    d = g ? den / g : 1;
  }
  bool operator<(const Q& o) const { return n * o.d < o.n * d; }
  bool operator==(const Q& o) const { return n == o.n && d == o.d; }
};

// Every value of every bracketing of leaves[lo, hi) in this order.
std::set<Q> all_values(const std::vector<int64_t>& leaves, size_t lo, size_t hi) {
  if (hi - lo == 1) return {Q(leaves[lo])};
  std::set<Q> out;
  for (size_t mid = lo + 1; mid < hi; ++mid) {
    for (const Q& a : all_values(leaves, lo, mid)) {
      for (const Q& b : all_values(leaves, mid, hi)) {
        out.insert(Q(a.n * b.d + b.n * a.d, a.d * b.d));
        out.insert(Q(a.n * b.d - b.n * a.d, a.d * b.d));
        out.insert(Q(a.n * b.n, a.d * b.d));
        if (b.n != 0) out.insert(Q(a.n * b.d, a.d * b.n));
      }
    }
  }
  return out;
}

bool brute_force_reachable(std::vector<int64_t> numbers, int64_t target) {
  std::sort(numbers.begin(), numbers.end());
  do {
    if (all_values(numbers, 0, numbers.size()).count(Q(target))) return true;
  } while (std::next_permutation(numbers.begin(), numbers.end()));
  return false;
}

// Recursive-descent evaluation of an equation like "(44 + 19) - 35", collecting its numbers.
class EquationParser {
 public:
  explicit EquationParser(std::string text) : s_(std::move(text)) {}
  Q parse(std::vector<int64_t>* used) {
    used_ = used;
    const Q v = sum();
    skip();
    EXPECT_EQ(i_, s_.size()) << "trailing text in " << s_;
    return v;
  }

 private:
  void skip() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
  }
  Q sum() {
    Q v = product();
    for (skip(); i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'); skip()) {
      const char op = s_[i_++];
      const Q r = product();
      v = op == '+' ? Q(v.n * r.d + r.n * v.d, v.d * r.d) : Q(v.n * r.d - r.n * v.d, v.d * r.d);
    }
    return v;
  }
  Q product() {
    Q v = atom();
    for (skip(); i_ < s_.size() && (s_[i_] == '*' || s_[i_] == '/'); skip()) {
      const char op = s_[i_++];
      const Q r = atom();
      v = op == '*' ? Q(v.n * r.n, v.d * r.d) : Q(v.n * r.d, v.d * r.n);
    }
    return v;
  }
  Q atom() {
    skip();
    if (s_[i_] == '(') {
      ++i_;
      const Q v = sum();
      skip();
      EXPECT_EQ(s_[i_], ')');
      ++i_;
      return v;
    }
    int64_t value = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) value = value * 10 + (s_[i_++] - '0');
    used_->push_back(value);
    return Q(value);
  }
  std::string s_;
  size_t i_ = 0;
  std::vector<int64_t>* used_ = nullptr;
};

// The sorted numbers, optionally with the target.
std::string sorted_key(const Record& r, bool with_target) {
  auto numbers = r.extra["numbers"].get<std::vector<int64_t>>();
  std::sort(numbers.begin(), numbers.end());
  return nlohmann::json(numbers).dump() + (with_target ? "=" + r.extra["target"].dump() : "");
}

TEST(CountdownSolver, FindsExactlyTheIntegersOfAllCombinations) {
  // 2 and 3: 2+3, 3-2, 2-3, 2*3 (2/3 and 3/2 are not integers).
  EXPECT_EQ(reachable_integers({2, 3}, -10, 10), (std::vector<int64_t>{-1, 1, 5, 6}));
  EXPECT_EQ(countdown_solution({1, 1}, 3), std::nullopt);
  // 24 from 1 5 5 5 needs a fractional step: 5 * (5 - 1/5).
  const auto solution = countdown_solution({1, 5, 5, 5}, 24);
  ASSERT_TRUE(solution.has_value());
  std::vector<int64_t> used;
  EXPECT_EQ(EquationParser(*solution).parse(&used), Q(24));
}

TEST(Countdown, PromptStatesTheTask) {
  EXPECT_EQ(countdown_prompt({44, 19, 35}, 98),
            "Using the numbers [44, 19, 35], create an equation that equals 98. You can use basic arithmetic "
            "operations (+, -, *, /) and each number can only be used once.");
}

TEST(Countdown, SameSeedSameRecordsOtherSeedOtherRecords) {
  const CountdownOptions o;
  const auto a = generate_countdown(o, 50, 7, Split::kTrain);
  const auto b = generate_countdown(o, 50, 7, Split::kTrain);
  const auto c = generate_countdown(o, 50, 8, Split::kTrain);
  ASSERT_EQ(a.size(), 50u);
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(record_to_json(a[i]), record_to_json(b[i]));
    differing += record_to_json(a[i]) != record_to_json(c[i]);
  }
  EXPECT_GT(differing, 40);
  EXPECT_EQ(a[3].id, "countdown-train-3");
  EXPECT_EQ(a[3].source.file, "countdown(seed=7, split=train)");
  EXPECT_EQ(a[3].source.line, 4);
}

TEST(Countdown, EveryTargetIsReachableAndEverySolutionChecksOut) {
  const CountdownOptions o;
  auto records = generate_countdown(o, 150, 1, Split::kTrain);
  const auto test = generate_countdown(o, 50, 1, Split::kTest);
  records.insert(records.end(), test.begin(), test.end());
  std::set<size_t> counts;
  for (const auto& r : records) {
    const auto numbers = r.extra["numbers"].get<std::vector<int64_t>>();
    const int64_t target = r.extra["target"].get<int64_t>();
    counts.insert(numbers.size());
    ASSERT_GE(numbers.size(), 3u);
    ASSERT_LE(numbers.size(), 4u);
    for (int64_t n : numbers) ASSERT_TRUE(n >= 1 && n <= 99) << n;
    ASSERT_TRUE(target >= 1 && target <= 99) << target;
    EXPECT_EQ(r.answer, std::to_string(target));
    EXPECT_EQ(r.prompt, countdown_prompt(numbers, target));
    EXPECT_TRUE(brute_force_reachable(numbers, target)) << r.prompt;

    std::vector<int64_t> used;
    const auto solution = r.extra["solution"].get<std::string>();
    EXPECT_EQ(EquationParser(solution).parse(&used), Q(target)) << solution;
    auto expected = numbers;
    std::sort(expected.begin(), expected.end());
    std::sort(used.begin(), used.end());
    EXPECT_EQ(used, expected) << solution;
  }
  EXPECT_EQ(counts, (std::set<size_t>{3, 4}));
}

TEST(Countdown, HeldOutNumberSetsNeverAppearInTrainWhateverTheSeeds) {
  const CountdownOptions o;
  std::set<std::string> train;
  for (uint64_t seed : {1, 2}) {
    for (const auto& r : generate_countdown(o, 400, seed, Split::kTrain)) train.insert(sorted_key(r, false));
  }
  std::set<std::string> test;
  for (uint64_t seed : {1, 3}) {
    const auto records = generate_countdown(o, 100, seed, Split::kTest);
    std::set<std::string> within;
    for (const auto& r : records) {
      within.insert(sorted_key(r, true));
      test.insert(sorted_key(r, false));
    }
    EXPECT_EQ(within.size(), records.size()) << "a split repeats a problem";
  }
  for (const auto& key : test) EXPECT_EQ(train.count(key), 0u) << key;
}

TEST(Countdown, AnExhaustedProblemSpaceSaysHowManyWereFound) {
  CountdownOptions o;
  o.min_count = o.max_count = 2;
  o.min_number = 1;
  o.max_number = 2;
  try {
    generate_countdown(o, 1000, 1, Split::kTrain);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("countdown: found only ", 0), 0u) << e.what();
  }
}

TEST(Countdown, BadOptionsAreListedTogether) {
  CountdownOptions o;
  o.max_count = 7;
  o.test_fraction = 1.5;
  try {
    generate_countdown(o, 10, 1, Split::kTrain);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "countdown: need 2 <= min_count <= max_count <= 5, got 3..7\n"
              "countdown: test_fraction must be in (0, 1), got 1.500000");
  }
}

}  // namespace
}  // namespace grpo::datasets
