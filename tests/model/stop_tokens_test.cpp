// End-of-sequence ids as Hugging Face decides them: generation_config.json first, config.json
// when it names none, the tokenizer's end token on top; malformed values name file and key.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/error.h"
#include "model/io/stop_tokens.h"
#include "test_util.h"

namespace grpo::model {
namespace {

void write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string error_of(const std::filesystem::path& dir, int64_t vocab = 100) {
  try {
    end_of_sequence_ids(dir, std::nullopt, vocab);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(StopTokens, GenerationConfigListComesFirstInItsOrderAndTheTokenizerEosIsAdded) {
  const auto dir = testing::scratch_dir("stop_list");
  write(dir / "config.json", R"({"eos_token_id": 7})");
  write(dir / "generation_config.json", R"({"eos_token_id": [5, 3, 5]})");
  EXPECT_EQ(end_of_sequence_ids(dir, 9, 100), (std::vector<int64_t>{5, 3, 9}));
  EXPECT_EQ(end_of_sequence_ids(dir, 3, 100), (std::vector<int64_t>{5, 3}));
}

TEST(StopTokens, ConfigJsonDecidesWhenThereIsNoGenerationConfig) {
  // SmolLM2 imported from GGUF: transformers stopped at config.json's eos (2, <|im_end|>)
  // while the tokenizer's own end token is another.
  const auto dir = testing::scratch_dir("stop_config");
  write(dir / "config.json", R"({"eos_token_id": 2})");
  EXPECT_EQ(end_of_sequence_ids(dir, 0, 100), (std::vector<int64_t>{2, 0}));
  write(dir / "generation_config.json", R"({"bos_token_id": 1})");  // names no eos: config.json's
  EXPECT_EQ(end_of_sequence_ids(dir, std::nullopt, 100), (std::vector<int64_t>{2}));
  write(dir / "generation_config.json", R"({"eos_token_id": []})");  // older grpo.cpp checkpoints
  EXPECT_EQ(end_of_sequence_ids(dir, std::nullopt, 100), (std::vector<int64_t>{2}));
}

TEST(StopTokens, WithoutEitherFileOnlyTheTokenizerEosStops) {
  const auto dir = testing::scratch_dir("stop_none");
  EXPECT_EQ(end_of_sequence_ids(dir, 4, 100), (std::vector<int64_t>{4}));
  EXPECT_TRUE(end_of_sequence_ids(dir, std::nullopt, 100).empty());
}

TEST(StopTokens, MalformedEosTokenIdNamesTheFileAndWhatWasExpected) {
  const auto dir = testing::scratch_dir("stop_bad");
  const auto gen = dir / "generation_config.json";
  for (const std::string bad : {R"({"eos_token_id": "2"})", R"({"eos_token_id": [2, "x"]})",
                                R"({"eos_token_id": 1.5})", R"({"eos_token_id": -1})",
                                R"({"eos_token_id": 100})"}) {
    write(gen, bad);
    const auto message = error_of(dir);
    EXPECT_NE(message.find(gen.string()), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("eos_token_id must be a token id or a list of token ids"), std::string::npos) << message;
  }
  write(gen, "{not json");
  EXPECT_NE(error_of(dir).find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace grpo::model
