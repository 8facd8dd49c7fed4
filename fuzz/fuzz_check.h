// Property checks for the libFuzzer targets: a broken property prints what was expected and
// aborts, which libFuzzer reports as a crash and saves the input. Header-only; fuzz builds only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>

namespace grpo::fuzz {

[[noreturn]] inline void fail(const std::string& property) {
  std::fprintf(stderr, "fuzz property broken: %s\n", property.c_str());
  std::abort();
}

inline void check(bool holds, const std::string& property) {
  if (!holds) fail(property);
}

// The same with the property's text built only when it is broken, for a text that names what it
// checks ("tensor '" + name + "' ...") or dumps it: built eagerly, it would cost an allocation on
// every check of every execution.
template <class Describe, class = std::enable_if_t<std::is_invocable_r_v<std::string, const Describe&>>>
void check(bool holds, const Describe& describe) {
  if (!holds) fail(describe());
}

}  // namespace grpo::fuzz
