// Windowed stop-string detection; see stop_matcher.h.
#include "rollout/stop_matcher.h"

#include <algorithm>

#include "core/error.h"

namespace grpo::rollout {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stop_strings, DecodeFn decode)
    : stops_(std::move(stop_strings)), decode_(std::move(decode)) {
  size_t longest = 0;
  for (const auto& s : stops_) {
    if (s.empty()) throw Error("stop strings must not be empty");
    longest = std::max(longest, s.size());
  }
  if (!stops_.empty() && !decode_) throw Error("stop strings need a tokenizer to decode completions");
  // Every token decodes to at least one byte except a few (special, partial UTF-8), so this many
  // tokens always cover the longest stop string plus the token that completes it.
  window_tokens_ = longest + 8;
}

bool StopStringMatcher::completed_by_last_token(const std::vector<int64_t>& tokens) const {
  if (stops_.empty() || tokens.empty()) return false;
  const size_t start = tokens.size() > window_tokens_ ? tokens.size() - window_tokens_ : 0;
  const std::vector<int64_t> with(tokens.begin() + start, tokens.end());
  const std::vector<int64_t> without(tokens.begin() + start, tokens.end() - 1);
  const std::string now = decode_(with), before = decode_(without);
  for (const auto& s : stops_)
    if (now.find(s) != std::string::npos && before.find(s) == std::string::npos) return true;
  return false;
}

}  // namespace grpo::rollout
