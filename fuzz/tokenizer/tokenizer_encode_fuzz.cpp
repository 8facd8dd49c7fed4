// libFuzzer target for encode/decode of arbitrary bytes with a fixed byte-level BPE tokenizer:
// fuzz/data/llama3_tokenizer.json (the small Llama-3-style fixture: no normalizer, ByteLevel
// pre-tokenizer and decoder, special tokens that do not strip whitespace), for which
// decode(encode(x)) is exactly x. Qwen2's tokenizer would not do: its NFC normalizer changes
// non-NFC text. Input: one selector byte (fuzz_input.h), then the bytes under test:
//   0  encode/decode: encode(x) (no special tokens added) decodes to to_valid_utf8(x), which is
//      x itself for valid UTF-8 (encode repairs invalid UTF-8 first), and every id lies below
//      vocab_size();
//   1  decoding the bytes read as arbitrary ids (out of range ones included) gives valid UTF-8;
//   2  the same, skipping special tokens.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/text/utf8.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "model/tokenizer/tokenizer.h"

using grpo::fuzz::check;

namespace {

// $GRPO_FUZZ_DATA_DIR stands in for the source tree's fuzz/data when the binary runs elsewhere
// (scripts/pack-fuzz).
const grpo::Tokenizer& tokenizer() {
  static const grpo::Tokenizer t = [] {
    const char* dir = std::getenv("GRPO_FUZZ_DATA_DIR");
    return grpo::Tokenizer::from_file(std::string(dir && *dir ? dir : GRPO_FUZZ_DATA_DIR) + "/llama3_tokenizer.json");
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const grpo::Tokenizer& tok = tokenizer();
  const auto input = grpo::fuzz::select_variant(data, size, 3);
  if (input.variant == 0) {
    const std::string text(input.rest);
    const std::vector<int> ids = tok.encode(text, false);
    for (int id : ids)
      check(id >= 0 && static_cast<size_t>(id) < tok.vocab_size(), "encoded ids lie below vocab_size()");
    const std::string decoded = tok.decode(ids, false);
    check(decoded == grpo::to_valid_utf8(text), "decode(encode(x)) == to_valid_utf8(x)");
    if (grpo::is_valid_utf8(text)) check(decoded == text, "decode(encode(x)) == x for valid UTF-8");
    return 0;
  }
  std::vector<int> arbitrary(input.rest.size() / sizeof(int32_t));
  if (!arbitrary.empty()) std::memcpy(arbitrary.data(), input.rest.data(), arbitrary.size() * sizeof(int32_t));
  const bool skip_special = input.variant == 2;
  check(grpo::is_valid_utf8(tok.decode(arbitrary, skip_special)), "decoding arbitrary ids gives valid UTF-8");
  return 0;
}
