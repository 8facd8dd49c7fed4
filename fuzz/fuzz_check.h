// Property checks for the libFuzzer targets: a broken property prints what was expected and
// aborts, which libFuzzer reports as a crash and saves the input. Header-only; fuzz builds only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace grpo::fuzz {

[[noreturn]] inline void fail(const std::string& property) {
  std::fprintf(stderr, "fuzz property broken: %s\n", property.c_str());
  std::abort();
}

inline void check(bool holds, const std::string& property) {
  if (!holds) fail(property);
}

}  // namespace grpo::fuzz
