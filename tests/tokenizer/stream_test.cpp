// StreamDecoder: chunks are always valid UTF-8, text is held while a character is split
// across byte tokens, and the chunks concatenate to decode(all ids), for byte-level and
// SentencePiece-style tokenizers, with and without skip_special_tokens.
#include <gtest/gtest.h>

#include <random>

#include "core/text/utf8.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/tokenizer/test_data.h"

namespace grpo {
namespace {

std::vector<std::filesystem::path> all_tokenizer_dirs() {
  auto dirs = testing::fixture_dirs("tokenizers");
  for (const auto& d : testing::local_tokenizer_dirs()) dirs.push_back(d);
  return dirs;
}

TEST(StreamDecoder, RandomIdsStreamValidUtf8ThatConcatenatesToDecode) {
  std::mt19937 rng(7);
  for (const auto& dir : all_tokenizer_dirs()) {
    const Tokenizer tok = Tokenizer::from_file(dir.string());
    for (int trial = 0; trial < 200; ++trial) {
      const bool skip = trial % 2 == 1;
      std::vector<int> ids(std::uniform_int_distribution<size_t>(0, 40)(rng));
      for (int& id : ids) id = static_cast<int>(rng() % tok.vocab_size());
      StreamDecoder stream(tok, skip);
      std::string joined;
      for (int id : ids) {
        const std::string chunk = stream.push(id);
        ASSERT_TRUE(grpo::is_valid_utf8(chunk)) << dir.filename();
        joined += chunk;
      }
      joined += stream.finish();
      ASSERT_EQ(joined, tok.decode(ids, skip)) << dir.filename() << " trial " << trial;
    }
  }
}

TEST(StreamDecoder, HoldsASplitCharacterUntilItsLastByte) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  const Tokenizer tok = Tokenizer::from_file((testing::fixtures_root() / "tokenizers" / "qwen2").string());
  const std::string emoji = "\xF0\x9F\x98\x80";  // one character, several byte-level tokens here
  const auto ids = tok.encode("ok " + emoji + "!", false);
  ASSERT_GT(ids.size(), 4u);
  StreamDecoder stream(tok);
  std::vector<std::string> chunks;
  for (int id : ids) chunks.push_back(stream.push(id));
  EXPECT_EQ(chunks.front(), "ok");
  std::string joined;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.find("\xEF\xBF\xBD"), std::string::npos) << "emitted a replacement character mid-stream";
    joined += c;
  }
  EXPECT_EQ(joined + stream.finish(), "ok " + emoji + "!");
}

TEST(StreamDecoder, FinishFlushesAnIncompleteTailAsReplacement) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  const Tokenizer tok = Tokenizer::from_file((testing::fixtures_root() / "tokenizers" / "llama3").string());
  const auto ids = tok.encode("\xF0\x9F\x98\x80", false);
  ASSERT_GE(ids.size(), 2u);
  StreamDecoder stream(tok);
  EXPECT_EQ(stream.push(ids[0]), "");
  EXPECT_EQ(stream.finish(), tok.decode({ids[0]}));
  EXPECT_EQ(stream.push(ids[0]), "");  // usable again after finish
}

}  // namespace
}  // namespace grpo
