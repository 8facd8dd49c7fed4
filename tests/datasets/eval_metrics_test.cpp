// pass@k against the unbiased estimator's closed form, pass@1, maj@k with ties, lengths.
#include <gtest/gtest.h>

#include "core/error.h"
#include "datasets/eval_metrics.h"

namespace grpo::datasets {
namespace {

double choose(int n, int k) {
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

TEST(PassAtK, EqualsTheUnbiasedEstimatorOnAConstructedCase) {
  // n=5 samples, c=2 correct, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
  EXPECT_NEAR(pass_at_k(5, 2, 2), 0.7, 1e-12);
  for (int n = 1; n <= 12; ++n) {
    for (int c = 0; c <= n; ++c) {
      for (int k = 1; k <= n; ++k) {
        const double expected = n - c < k ? 1.0 : 1.0 - choose(n - c, k) / choose(n, k);
        EXPECT_NEAR(pass_at_k(n, c, k), expected, 1e-12) << n << " " << c << " " << k;
      }
    }
  }
}

TEST(PassAtK, StaysFiniteForLargeN) {
  // C(1000, 500) overflows a double; the product form does not.
  const double v = pass_at_k(1000, 3, 500);
  EXPECT_NEAR(v, 1.0 - (500.0 / 1000) * (499.0 / 999) * (498.0 / 998), 1e-12);
}

TEST(PassAtK, PassAtOneIsTheFractionCorrect) { EXPECT_DOUBLE_EQ(pass_at_k(8, 3, 1), 3.0 / 8); }

TEST(PassAtK, RejectsImpossibleCounts) {
  EXPECT_THROW(pass_at_k(4, 5, 1), Error);
  EXPECT_THROW(pass_at_k(4, 1, 5), Error);
  EXPECT_THROW(pass_at_k(4, 1, 0), Error);
}

TEST(MajorityVote, TiesGoToTheAnswerThatAppearsFirst) {
  // "7" and "9" both have two votes; "7" appears first.
  const auto vote = majority_vote({"", "7", "9", "9", "7", "3"});
  EXPECT_TRUE(vote.has_answer);
  EXPECT_EQ(vote.answer, "7");
  EXPECT_EQ(vote.votes, 2);
  EXPECT_EQ(vote.first_index, 1u);
  EXPECT_EQ(majority_vote({"9", "7", "7", "9"}).answer, "9");
  EXPECT_FALSE(majority_vote({"", ""}).has_answer);
}

TEST(MajAtK, UsesTheFirstKSamplesAndTheWinnersCorrectness) {
  const std::vector<std::string> answers = {"7", "9", "9", "7", "7"};
  const std::vector<bool> correct = {true, false, false, true, true};
  EXPECT_EQ(maj_at_k(answers, correct, 1), 1.0);  // "7"
  EXPECT_EQ(maj_at_k(answers, correct, 3), 0.0);  // "9" has 2 of 3
  EXPECT_EQ(maj_at_k(answers, correct, 4), 1.0);  // tie 2-2: "7" came first
  EXPECT_EQ(maj_at_k(answers, correct, 5), 1.0);
  EXPECT_EQ(maj_at_k({"", ""}, {false, false}, 2), 0.0);
  EXPECT_THROW(maj_at_k(answers, correct, 6), Error);
}

TEST(Summarize, AveragesEveryMetricOverProblems) {
  std::vector<ProblemSamples> problems(2);
  problems[0] = {{true, false, false, true, false}, {"7", "9", "9", "7", "1"}, {10, 20, 30, 40, 50}};
  problems[1] = {{false, false, false, false, false}, {"", "", "2", "", ""}, {5, 5, 5, 5, 5}};
  const EvalSummary s = summarize(problems, {2, 4});
  EXPECT_EQ(s.problems, 2);
  EXPECT_EQ(s.samples, 10);
  EXPECT_NEAR(s.pass_at_1, (2.0 / 5 + 0.0) / 2, 1e-12);
  EXPECT_NEAR(s.pass_at.at(2), (0.7 + 0.0) / 2, 1e-12);
  EXPECT_NEAR(s.pass_at.at(4), (1.0 + 0.0) / 2, 1e-12);  // n-c = 3 < 4
  EXPECT_NEAR(s.maj_at.at(2), (1.0 + 0.0) / 2, 1e-12);  // "7" vs "9" tie: "7" first, correct
  EXPECT_NEAR(s.maj_at.at(4), (1.0 + 0.0) / 2, 1e-12);  // 2-2 tie again
  EXPECT_NEAR(s.mean_length, (150.0 + 25.0) / 10, 1e-12);
  const auto json = to_json(s);
  EXPECT_NEAR(json["pass@2"].get<double>(), 0.35, 1e-12);
  EXPECT_NEAR(json["maj@4"].get<double>(), 0.5, 1e-12);
  EXPECT_THROW(summarize(problems, {6}), Error);
}

TEST(MeanLength, IsTheArithmeticMean) {
  EXPECT_DOUBLE_EQ(mean_length({3, 4, 8}), 5.0);
  EXPECT_THROW(mean_length({}), Error);
}

}  // namespace
}  // namespace grpo::datasets
