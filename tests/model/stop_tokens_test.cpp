// End-of-sequence ids as Hugging Face decides them: generation_config.json first, the model
// config (config.json, with transformers' default for the model_type) when it names none, the
// tokenizer's end token on top; malformed values name file and key.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "model/arch/config.h"
#include "model/io/stop_tokens.h"
#include "test_util.h"

namespace grpo::model {
namespace {

void write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

// A small Llama config.json (vocabulary of 100) with `eos` as its eos_token_id, or without the
// key when `eos` is kNoKey.
ModelConfig llama(const nlohmann::json& eos) {
  nlohmann::json j = {{"model_type", "llama"}, {"vocab_size", 100}, {"hidden_size", 8}, {"intermediate_size", 16},
                      {"num_hidden_layers", 1}, {"num_attention_heads", 2}};
  if (!eos.is_discarded()) j["eos_token_id"] = eos;
  return parse_model_config(j);
}
const nlohmann::json kNoKey = nlohmann::json(nlohmann::json::value_t::discarded);

std::string error_of(const std::filesystem::path& dir, const ModelConfig& config = llama(nullptr)) {
  try {
    end_of_sequence_ids(dir, config, std::nullopt);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(StopTokens, GenerationConfigListComesFirstInItsOrderAndTheTokenizerEosIsAdded) {
  const auto dir = testing::scratch_dir("stop_list");
  write(dir / "generation_config.json", R"({"eos_token_id": [5, 3, 5]})");
  EXPECT_EQ(end_of_sequence_ids(dir, llama(7), 9), (std::vector<int64_t>{5, 3, 9}));
  EXPECT_EQ(end_of_sequence_ids(dir, llama(7), 3), (std::vector<int64_t>{5, 3}));
}

TEST(StopTokens, ModelConfigDecidesWhenThereIsNoGenerationConfig) {
  // SmolLM2 imported from GGUF: transformers stopped at config.json's eos (2, <|im_end|>)
  // while the tokenizer's own end token is another.
  const auto dir = testing::scratch_dir("stop_config");
  EXPECT_EQ(end_of_sequence_ids(dir, llama(2), 0), (std::vector<int64_t>{2, 0}));
  write(dir / "generation_config.json", R"({"bos_token_id": 1})");  // names no eos: config.json's
  EXPECT_EQ(end_of_sequence_ids(dir, llama(nlohmann::json::array({4, 2})), std::nullopt), (std::vector<int64_t>{4, 2}));
  write(dir / "generation_config.json", R"({"eos_token_id": []})");  // older grpo.cpp checkpoints
  EXPECT_EQ(end_of_sequence_ids(dir, llama(2), std::nullopt), (std::vector<int64_t>{2}));
}

TEST(StopTokens, AConfigWithoutTheKeyStopsAtTheArchitecturesDefaultLikeTransformers) {
  // LlamaConfig's eos_token_id defaults to 2, and generate() stops there.
  const auto dir = testing::scratch_dir("stop_default");
  EXPECT_EQ(end_of_sequence_ids(dir, llama(kNoKey), std::nullopt), (std::vector<int64_t>{2}));
}

TEST(StopTokens, AConfigNamingNoneStopsOnlyAtTheTokenizerEos) {
  const auto dir = testing::scratch_dir("stop_none");
  EXPECT_EQ(end_of_sequence_ids(dir, llama(nullptr), 4), (std::vector<int64_t>{4}));
  EXPECT_TRUE(end_of_sequence_ids(dir, llama(nullptr), std::nullopt).empty());
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
  EXPECT_NE(error_of(dir).find(gen.string() + ": bad JSON at byte offset 2"), std::string::npos);
  std::filesystem::remove(gen);
  const auto message = error_of(dir, llama(100));  // config.json's id beyond the vocabulary
  EXPECT_NE(message.find((dir / "config.json").string()), std::string::npos) << message;
  EXPECT_NE(message.find("got 100"), std::string::npos) << message;
}

}  // namespace
}  // namespace grpo::model
