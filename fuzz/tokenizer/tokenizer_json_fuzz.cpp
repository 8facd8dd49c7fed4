// libFuzzer target for tokenizer.json loading (Tokenizer::from_json) on arbitrary text.
// Properties: a rejected file throws grpo::Error naming the source (a JSON library or standard
// exception escaping is a finding); a loaded tokenizer encodes and decodes a fixed text without
// crashing, every id it returns is below vocab_size(), and id_to_token/token_to_id agree.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz/fuzz_check.h"
#include "model/tokenizer/tokenizer.h"

using grpo::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string source = "fuzz/tokenizer.json";
  try {
    const grpo::Tokenizer tokenizer = grpo::Tokenizer::from_json(text, source);
    const auto ids = tokenizer.encode("Hello world! 12345 <|im_end|> caf\xc3\xa9 \xe2\x96\x81x\n\t  end", true);
    for (int id : ids) {
      check(id >= 0 && static_cast<size_t>(id) < tokenizer.vocab_size(), "encoded ids lie below vocab_size()");
      if (const auto token = tokenizer.id_to_token(id)) {
        const auto back = tokenizer.token_to_id(*token);
        check(back.has_value(), "token_to_id finds the token id_to_token gave");
      }
    }
    tokenizer.decode(ids, false);
    tokenizer.decode(ids, true);
  } catch (const grpo::Error& e) {
    check(std::string(e.what()).find(source) != std::string::npos,
          [&] { return "a load error names the source: " + std::string(e.what()); });
  }
  return 0;
}
