// libFuzzer target for encode/decode of arbitrary bytes with a fixed byte-level BPE tokenizer:
// fuzz/data/llama3_tokenizer.json (the small Llama-3-style fixture: no normalizer, ByteLevel
// pre-tokenizer and decoder, special tokens that do not strip whitespace), for which
// decode(encode(x)) is exactly x. Qwen2's tokenizer would not do: its NFC normalizer changes
// non-NFC text. Properties: encode(x) (no special tokens added) decodes to to_valid_utf8(x), which
// is x itself for valid UTF-8 (encode repairs invalid UTF-8 first); every id lies below
// vocab_size(); and decoding the input read as arbitrary ids (out of range ones included) gives
// valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/text/utf8.h"
#include "fuzz/fuzz_check.h"
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
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<int> ids = tok.encode(text, false);
  for (int id : ids) check(id >= 0 && static_cast<size_t>(id) < tok.vocab_size(), "encoded ids lie below vocab_size()");
  const std::string decoded = tok.decode(ids, false);
  const std::string repaired = grpo::to_valid_utf8(text);
  check(decoded == repaired, "decode(encode(x)) == to_valid_utf8(x)");
  if (grpo::is_valid_utf8(text)) check(decoded == text, "decode(encode(x)) == x for valid UTF-8");

  std::vector<int> arbitrary(size / sizeof(int32_t));
  if (!arbitrary.empty()) std::memcpy(arbitrary.data(), data, arbitrary.size() * sizeof(int32_t));
  check(grpo::is_valid_utf8(tok.decode(arbitrary, false)), "decoding arbitrary ids gives valid UTF-8");
  check(grpo::is_valid_utf8(tok.decode(arbitrary, true)), "decoding arbitrary ids (skipping specials) gives valid UTF-8");
  return 0;
}
