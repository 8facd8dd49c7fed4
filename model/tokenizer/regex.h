// A compiled PCRE2 pattern for tokenizer.json regexes (Split, Replace): UTF + UCP so \p{L},
// \s and \w follow Unicode, JIT-compiled when the platform supports it. Thread-safe to use
// from many threads at once. It only finds non-overlapping matches left to right; no
// captures, no substitution syntax.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::tok {

struct Match {
  size_t start;
  size_t end;
};

class Regex {
 public:
  // `literal` treats the pattern as plain text (tokenizer.json's {"String": ...} patterns).
  // Throws grpo::Error naming `field` when the pattern does not compile.
  Regex(const std::string& pattern, bool literal, const std::string& field);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Every non-overlapping match in `text`, left to right. An empty match is never reported
  // right where the previous match ended (Oniguruma's and Rust's iteration rule).
  void find_all(std::string_view text, std::vector<Match>& out) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
};

}  // namespace grpo::tok
