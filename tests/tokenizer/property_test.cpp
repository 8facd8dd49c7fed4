// Round-trip property on random Unicode text: decode(encode(s)) == NFC(s) for tokenizers
// whose normalizer is NFC, and == s for the others. Strings mix ASCII, whitespace,
// combining marks, Hangul jamo (which NFC composes), CJK, emoji, arbitrary scalar values
// and the tokenizers' own added tokens. Also pins a few NFC results by hand.
#include <gtest/gtest.h>

#include <random>

#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/unicode.h"
#include "tests/tokenizer/test_data.h"

namespace grpo {
namespace {

std::string random_unicode(std::mt19937& rng) {
  static const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {0x20, 0x7E}, {0x09, 0x0D}, {0xA0, 0xFF}, {0x300, 0x36F}, {0x1100, 0x1112}, {0x1161, 0x1175},
      {0xAC00, 0xD7A3}, {0x4E00, 0x4FFF}, {0x3040, 0x30FF}, {0x1F300, 0x1F64F}, {0x2000, 0x206F}, {0x0, 0x10FFFF}};
  static const std::vector<std::string> words = {"<|endoftext|>", "<|im_start|>", "<think>", "</answer>", " the", "'s"};
  std::string s;
  const int n = std::uniform_int_distribution<int>(0, 24)(rng);
  for (int i = 0; i < n; ++i) {
    if (rng() % 10 == 0) {
      // A letter after the word keeps a random combining mark from composing with its last
      // character; that case is pinned separately below.
      s += words[rng() % words.size()] + "x";
      continue;
    }
    const auto& [lo, hi] = ranges[rng() % ranges.size()];
    uint32_t cp = std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // surrogates are not scalar values
    tok::append_utf8(s, cp);
  }
  return s;
}

TEST(TokenizerProperty, DecodeOfEncodeIsNormalizedInput) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  std::mt19937 rng(1234);
  for (const auto& dir : testing::fixture_dirs("tokenizers")) {
    const Tokenizer tok = Tokenizer::from_file(dir.string());
    const auto normalizer = testing::read_json(dir / "tokenizer.json").at("normalizer");
    const bool nfc = !normalizer.is_null() && normalizer.at("type") == "NFC";
    for (int i = 0; i < 2000; ++i) {
      const std::string s = random_unicode(rng);
      const std::string expected = nfc ? tok::normalize(s, tok::NormalForm::kNfc) : s;
      ASSERT_EQ(tok.decode(tok.encode(s, false), false), expected) << dir.filename() << " input bytes: " << ::testing::PrintToString(s);
    }
  }
}

TEST(TokenizerProperty, NfcComposesAndReordersAsUnicodeSays) {
  using tok::NormalForm;
  EXPECT_EQ(tok::normalize("e\xCC\x81", NormalForm::kNfc), "\xC3\xA9");                         // e + U+0301 -> é
  EXPECT_EQ(tok::normalize("\xE1\x84\x80\xE1\x85\xA1", NormalForm::kNfc), "\xEA\xB0\x80");      // jamo -> 가
  EXPECT_EQ(tok::normalize("\xE1\xB8\x8B\xCC\xA3", NormalForm::kNfc), "\xE1\xB8\x8D\xCC\x87");  // ḋ + dot below -> ḍ + dot above
  EXPECT_EQ(tok::normalize("\xEF\xAC\x81", NormalForm::kNfc), "\xEF\xAC\x81");                  // ﬁ stays under NFC
  EXPECT_EQ(tok::normalize("\xEF\xAC\x81", NormalForm::kNfkc), "fi");
  EXPECT_EQ(tok::normalize(std::string("a\0b", 3), NormalForm::kNfc), std::string("a\0b", 3));  // NUL is text too
}

// Added tokens are cut out before normalization (as in Hugging Face), so a combining mark
// after "<|endoftext|>" does not compose with its '>' even though NFC of the whole text would.
TEST(TokenizerProperty, AddedTokensAreMatchedBeforeNormalization) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  const Tokenizer tok = Tokenizer::from_file((testing::fixtures_root() / "tokenizers" / "qwen2").string());
  const std::string s = "<|endoftext|>\xCC\xB8";  // U+0338 after '>'; NFC("> U+0338") = U+226F
  const auto ids = tok.encode(s, false);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(tok.decode(ids, false), s);
  EXPECT_NE(tok::normalize(s, tok::NormalForm::kNfc), s);
}

TEST(TokenizerProperty, InvalidUtf8InputIsEncodedAsReplacementCharacter) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  const Tokenizer tok = Tokenizer::from_file(testing::fixture_dirs("tokenizers").front().string());
  EXPECT_EQ(tok.encode("a\xFF" "b", false), tok.encode("a\xEF\xBF\xBD" "b", false));
}

}  // namespace
}  // namespace grpo
