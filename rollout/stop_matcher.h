// Stop-string detection for streamed completions. Tokens arrive one at a time; a stop string is
// found when it appears in the decoded text of the last few tokens and was not there before the
// newest token. Decoding only a window keeps the cost per token constant. The completion keeps
// the tokens up to and including the one that completed the stop string (R1's format reward
// needs the closing tag). It does not match across the prompt boundary.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace grpo::rollout {

using DecodeFn = std::function<std::string(const std::vector<int64_t>&)>;

class StopStringMatcher {
 public:
  StopStringMatcher(std::vector<std::string> stop_strings, DecodeFn decode);
  bool empty() const { return stops_.empty(); }
  // True when appending tokens.back() completed one of the stop strings.
  bool completed_by_last_token(const std::vector<int64_t>& tokens) const;

 private:
  std::vector<std::string> stops_;
  DecodeFn decode_;
  size_t window_tokens_ = 0;
};

}  // namespace grpo::rollout
