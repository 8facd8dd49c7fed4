// Input layout shared by the libFuzzer targets that test several variants of one reader (a
// shape, a mode, a step of a check): the first byte of an input picks the variant, the rest is
// the text or file under test. One variant per execution keeps each execution cheap, and libFuzzer
// still learns which variant an input needs, since the selector is an input byte like any other.
// Header-only; fuzz builds only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace grpo::fuzz {

struct SelectedInput {
  size_t variant = 0;     // the first byte modulo the number of variants
  std::string_view rest;  // everything after the first byte
};

// An empty input is variant 0 with empty text.
inline SelectedInput select_variant(const uint8_t* data, size_t size, size_t variants) {
  if (size == 0) return {};
  return {data[0] % variants, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

}  // namespace grpo::fuzz
