// The BPE trainer: a tokenizer learned from a small corpus loads back, has the requested
// size and layout, learns the corpus' frequent words, round-trips arbitrary text, and is
// deterministic.
#include <gtest/gtest.h>

#include "model/tokenizer/bpe_trainer.h"
#include "model/tokenizer/tokenizer.h"

namespace grpo {
namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> docs;
  for (int i = 0; i < 200; ++i)
    docs.push_back("<think> the answer is " + std::to_string(i * 37 % 1000) + " because the sum works </think> " +
                   "<answer>" + std::to_string(i) + "</answer><|endoftext|>");
  return docs;
}

TEST(BpeTrainer, LearnedTokenizerHasRequestedLayout) {
  BpeTrainerOptions options;
  options.vocab_size = 280;
  const Tokenizer tok = Tokenizer::from_json(train_byte_level_bpe(corpus(), options), "trained");
  EXPECT_EQ(tok.vocab_size(), 280u);
  EXPECT_EQ(tok.token_to_id("<|endoftext|>"), 0);
  EXPECT_TRUE(tok.is_special(0));
  EXPECT_EQ(tok.token_to_id("<think>"), 1);
  EXPECT_FALSE(tok.is_special(1));
  EXPECT_EQ(tok.token_to_id("</answer>"), 4);
  EXPECT_EQ(tok.token_to_id("!"), 5 + 0x21);  // byte tokens follow in byte order
  EXPECT_EQ(tok.encode(" the", false).size(), 1u) << "a frequent word becomes one token";
  EXPECT_EQ(tok.encode("<think>", false), (std::vector<int>{1}));
}

TEST(BpeTrainer, TrainedTokenizerRoundTripsAnyText) {
  BpeTrainerOptions options;
  options.vocab_size = 400;
  const Tokenizer tok = Tokenizer::from_json(train_byte_level_bpe(corpus(), options), "trained");
  for (const std::string s : {"the answer is 42", "unseen ✓ text ünïcödé 数学 😀", "", " \n\t ", "<think>x</think>"}) {
    EXPECT_EQ(tok.decode(tok.encode(s, true)), s);
  }
}

TEST(BpeTrainer, TrainingIsDeterministicAndStopsAtMinFrequency) {
  BpeTrainerOptions options;
  options.vocab_size = 100000;
  options.min_frequency = 2;
  const std::string a = train_byte_level_bpe(corpus(), options);
  EXPECT_EQ(a, train_byte_level_bpe(corpus(), options));
  const Tokenizer tok = Tokenizer::from_json(a, "trained");
  EXPECT_LT(tok.vocab_size(), 1000u) << "a tiny corpus runs out of pairs seen twice";
  options.vocab_size = 10;  // below 256 + added tokens: bytes only
  EXPECT_EQ(Tokenizer::from_json(train_byte_level_bpe(corpus(), options), "bytes").vocab_size(), 261u);
}

}  // namespace
}  // namespace grpo
