// The message of the grpo::Error a piece of code throws, for tests that assert error wording:
// "" when it throws nothing (so an EXPECT_EQ against the expected message fails visibly). Other
// exception types propagate and fail the test.
#pragma once

#include <functional>
#include <string>

#include "core/error.h"

namespace grpo::testing {

inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace grpo::testing
