// Loss aggregations against hand-computed values on one small matrix:
//   l = [[1, 2, 3, 4], [5, 6, 0, 0]]   mask = [[1, 1, 1, 0], [1, 0, 0, 0]]
// active sums per row: 6 (3 tokens) and 5 (1 token); 4 active tokens in all.
#include "rl/algorithms/aggregation.h"

#include <gtest/gtest.h>

#include <limits>

#include "core/error.h"

namespace grpo::rl {
namespace {

torch::Tensor losses() { return torch::tensor({{1.0f, 2.0f, 3.0f, 4.0f}, {5.0f, 6.0f, 0.0f, 0.0f}}); }
torch::Tensor mask() { return torch::tensor({{1.0f, 1.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f, 0.0f}}); }

float agg(const std::string& name, const torch::Tensor& l, const torch::Tensor& m,
          AggregationContext c = {}) {
  return aggregate_loss(name, l, m, c).item<float>();
}

TEST(Aggregation, SeqMeanTokenMean) {
  EXPECT_FLOAT_EQ(agg("seq-mean-token-mean", losses(), mask()), 3.5f);  // (6/3 + 5/1) / 2
}

TEST(Aggregation, TokenMeanOverThisBatch) {
  EXPECT_FLOAT_EQ(agg("token-mean", losses(), mask()), 2.75f);  // (1+2+3+5) / 4
}

TEST(Aggregation, TokenMeanGlobalDividesByTheGivenCount) {
  AggregationContext c;
  c.global_token_count = 10;
  EXPECT_FLOAT_EQ(agg("token-mean-global", losses(), mask(), c), 1.1f);  // 11 / 10
  EXPECT_THROW(agg("token-mean-global", losses(), mask()), Error);       // count not given
}

TEST(Aggregation, SeqMeanTokenSum) {
  EXPECT_FLOAT_EQ(agg("seq-mean-token-sum", losses(), mask()), 5.5f);  // (6 + 5) / 2
}

TEST(Aggregation, SeqMeanTokenSumNormUsesTheConstantNotThePaddedLength) {
  AggregationContext c;
  c.max_completion_length = 8;  // T is 4 here; the normaliser must be 8
  EXPECT_FLOAT_EQ(agg("seq-mean-token-sum-norm", losses(), mask(), c), 0.6875f);  // 11 / (2·8)
  EXPECT_THROW(agg("seq-mean-token-sum-norm", losses(), mask()), Error);
}

TEST(Aggregation, NonFiniteValuesInPaddingDoNotLeak) {
  auto l = losses();
  l[0][3] = std::numeric_limits<float>::quiet_NaN();
  l[1][1] = std::numeric_limits<float>::infinity();
  EXPECT_FLOAT_EQ(agg("seq-mean-token-mean", l, mask()), 3.5f);
  EXPECT_FLOAT_EQ(agg("token-mean", l, mask()), 2.75f);
}

TEST(Aggregation, EmptyRowsCountAsSequences) {
  // An all-masked third row adds 0 and one sequence: (2 + 5 + 0) / 3
  auto l = torch::cat({losses(), torch::ones({1, 4})});
  auto m = torch::cat({mask(), torch::zeros({1, 4})});
  EXPECT_FLOAT_EQ(agg("seq-mean-token-mean", l, m), 7.0f / 3.0f);
  EXPECT_FLOAT_EQ(agg("token-mean", torch::ones({1, 2}), torch::zeros({1, 2})), 0.0f);
}

TEST(Aggregation, GradientIsTheNormalisedMask) {
  // seq-mean-token-mean: ∂/∂l = mask / (len_i · N) → 1/6 on row 0 (3 tokens), 1/2 on row 1
  auto l = losses().requires_grad_(true);
  aggregate_loss("seq-mean-token-mean", l, mask(), {}).backward();
  EXPECT_NEAR(l.grad()[0][0].item<float>(), 1.0 / 6.0, 1e-7);
  EXPECT_EQ(l.grad()[0][3].item<float>(), 0.0f);
  EXPECT_NEAR(l.grad()[1][0].item<float>(), 0.5, 1e-7);
}

TEST(Aggregation, MismatchedMaskIsAnError) {
  try {
    aggregate_loss("token-mean", losses(), torch::ones({2, 3}), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "mask: expected shape [2, 4], got [2, 3]");
  }
}

}  // namespace
}  // namespace grpo::rl
