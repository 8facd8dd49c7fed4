// Parity with Hugging Face tokenizers: every case of every encode_cases.json (the shared
// fixtures and the local variants) encodes to exactly the recorded ids and decodes to the
// recorded text. Batch encoding must agree with one-by-one encoding.
#include <gtest/gtest.h>

#include "core/strings.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_data.h"

namespace grpo {
namespace {

using testing::read_json;

// Returns the number of cases checked; failures are reported with the tokenizer and text.
size_t check_cases(const std::filesystem::path& dir) {
  const Tokenizer tok = Tokenizer::from_file(dir.string());
  const auto cases = read_json(dir / "encode_cases.json").at("cases");
  std::vector<std::string> texts;
  for (const auto& c : cases) {
    const auto text = c.at("text").get<std::string>();
    const auto ids = c.at("ids").get<std::vector<int>>();
    texts.push_back(text);
    EXPECT_EQ(tok.encode(text, true), ids) << dir.filename() << " text: " << c.at("text").dump();
    EXPECT_EQ(tok.decode(ids, false), c.at("decoded").get<std::string>()) << dir.filename() << " ids of " << c.at("text").dump();
    if (c.contains("ids_no_special"))
      EXPECT_EQ(tok.encode(text, false), c.at("ids_no_special").get<std::vector<int>>()) << dir.filename() << " " << c.at("text").dump();
    if (c.contains("decoded_skip_special"))
      EXPECT_EQ(tok.decode(ids, true), c.at("decoded_skip_special").get<std::string>()) << dir.filename() << " " << c.at("text").dump();
    if (c.contains("tokens")) {
      const auto tokens = c.at("tokens").get<std::vector<std::string>>();
      // Hugging Face shows an lstrip/rstrip added token with the whitespace it absorbed.
      for (size_t i = 0; i < tokens.size() && i < ids.size(); ++i)
        if (tok.id_to_token(ids[i]) != tokens[i]) EXPECT_EQ(tok.id_to_token(ids[i]), trim(tokens[i])) << dir.filename();
    }
  }
  const auto batch = tok.encode_batch(texts, true);
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i], tok.encode(texts[i], true));
  return cases.size();
}

TEST(TokenizerParity, EveryFixtureCaseEncodesToRecordedIdsAndDecodesBack) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  for (const auto& dir : testing::fixture_dirs("tokenizers")) EXPECT_GT(check_cases(dir), 0u) << dir;
}

TEST(TokenizerParity, LocalVariantsMatchHuggingFace) {
  const auto dirs = testing::local_tokenizer_dirs();
  ASSERT_GE(dirs.size(), 5u);
  for (const auto& dir : dirs) EXPECT_GT(check_cases(dir), 0u) << dir;
}

TEST(TokenizerParity, SpecialTokenLookupsAgreeBothWays) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  for (const auto& dir : testing::fixture_dirs("tokenizers")) {
    const Tokenizer tok = Tokenizer::from_file(dir.string());
    EXPECT_EQ(tok.token_to_id("<|im_start|>"), 1);
    EXPECT_EQ(tok.id_to_token(1), "<|im_start|>");
    EXPECT_TRUE(tok.is_special(1));
    EXPECT_EQ(tok.token_to_id("<think>"), 937);  // an added token outside model.vocab
    EXPECT_FALSE(tok.is_special(937));
    EXPECT_EQ(tok.vocab_size(), 941u);
    EXPECT_FALSE(tok.token_to_id("no such token").has_value());
    EXPECT_FALSE(tok.id_to_token(100000).has_value());
  }
}

}  // namespace
}  // namespace grpo
