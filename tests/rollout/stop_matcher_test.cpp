// Stop strings are found once, when the token that completes them arrives, across token
// boundaries, and not before.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rollout/stop_matcher.h"

namespace {
// A toy detokenizer: token i is the i-th piece.
const std::vector<std::string> kPieces = {"<", "/ans", "wer", ">", " x", "</answer>", "y"};
std::string decode(const std::vector<int64_t>& ids) {
  std::string s;
  for (auto i : ids) s += kPieces[i];
  return s;
}
}  // namespace

TEST(StopStringMatcher, FiresWhenTheLastTokenCompletesTheString) {
  grpo::rollout::StopStringMatcher m({"</answer>"}, decode);
  std::vector<int64_t> tokens;
  for (int64_t t : {4, 0, 1, 2}) {
    tokens.push_back(t);
    EXPECT_FALSE(m.completed_by_last_token(tokens)) << decode(tokens);
  }
  tokens.push_back(3);
  EXPECT_TRUE(m.completed_by_last_token(tokens));
}

TEST(StopStringMatcher, SingleTokenStopAndLaterTextDoNotRefire) {
  grpo::rollout::StopStringMatcher m({"</answer>"}, decode);
  EXPECT_TRUE(m.completed_by_last_token({4, 5}));
  EXPECT_FALSE(m.completed_by_last_token({4, 5, 6}));
}

TEST(StopStringMatcher, EmptyStopStringIsRejected) {
  EXPECT_THROW(grpo::rollout::StopStringMatcher({""}, decode), grpo::Error);
}
