// Per-token values of the completions (the rollout's log-probs) in the batch's completion-aligned
// layout: each row's values from its first completion token, zero past their end and in padding;
// a row with more values than completion tokens is an error naming it.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rl/trainer/sequence_batch.h"

namespace grpo::rl {
namespace {

TEST(CompletionAligned, RowsStartAtTheirFirstCompletionTokenAndPaddingIsZero) {
  const auto batch = make_sequence_batch({{1, 2, 3}, {4}}, {{5, 6}, {7, 8, 9}}, torch::kCPU);
  const std::vector<float> a = {-0.5f, -1.5f}, b = {-2.0f, -3.0f};  // b: fewer values than tokens
  const auto out = completion_aligned(batch, {&a, &b}, torch::kCPU);
  EXPECT_TRUE(torch::equal(out, torch::tensor({{-0.5f, -1.5f, 0.0f}, {-2.0f, -3.0f, 0.0f}})));
}

TEST(CompletionAligned, MoreValuesThanCompletionTokensNamesTheRow) {
  const auto batch = make_sequence_batch({{1}, {2}}, {{3, 4, 5}, {6}}, torch::kCPU);
  const std::vector<float> fits = {0.f, 0.f, 0.f}, too_long = {0.f, 0.f};
  try {
    completion_aligned(batch, {&fits, &too_long}, torch::kCPU);
    FAIL() << "two values for one completion token";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 1 has 2 values for 1 completion tokens"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grpo::rl
