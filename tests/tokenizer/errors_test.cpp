// Malformed tokenizer.json files fail at load with a grpo::Error that names the field:
// bad JSON, an unknown model type, missing or broken merges, a regex that does not
// compile, unknown pipeline types, broken added tokens and template post-processors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text/json_parse.h"
#include "model/tokenizer/tokenizer.h"

namespace grpo {
namespace {

// A minimal valid byte-level BPE tokenizer.json, with `patch` applied on top.
std::string tokenizer_json(const nlohmann::json& patch = nlohmann::json::object()) {
  nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", nlohmann::json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}}};
  j.merge_patch(patch);
  return j.dump();
}

// The message of the error thrown when loading `text`.
std::string load_error(const std::string& text) {
  try {
    Tokenizer::from_json(text, "bad.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(TokenizerErrors, MinimalFileLoadsAndMerges) {
  const Tokenizer tok = Tokenizer::from_json(tokenizer_json());
  EXPECT_EQ(tok.encode("ab"), (std::vector<int>{2}));
}

TEST(TokenizerErrors, BadJsonSaysWhere) {
  const auto msg = load_error("{\"model\": ");
  EXPECT_NE(msg.find("bad.json: bad JSON at byte offset 10"), std::string::npos) << msg;
}

// Loading recurses per nested Sequence, and copying or printing a value per level: a file's
// nesting is bounded (core/text/json_parse.h) before any of that runs.
TEST(TokenizerErrors, NestingPastTheLimitIsRefusedNamingTheLimit) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(load_error("{\"normalizer\": " + deep + "}"),
            "bad.json: JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
                " levels (the limit for files read by grpo)");
}

// Found by tokenizer_json_fuzz: nlohmann throws out_of_range, not parse_error, for a number beyond
// a double, and it escaped from_json as a non-grpo exception.
TEST(TokenizerErrors, NumberBeyondADoubleIsBadJson) {
  EXPECT_EQ(load_error("{\"version\": 1e999}"),
            "bad.json: bad JSON: [json.exception.out_of_range.406] number overflow parsing '1e999'");
}

// Found by tokenizer_json_fuzz: a single id near 2^30 resized the id-indexed vocabulary to 7 GB.
TEST(TokenizerErrors, VocabularyIdFarPastTheEntriesIsRefusedBeforeAllocating) {
  EXPECT_EQ(load_error(tokenizer_json({{"model", {{"vocab", {{"a", 0}, {"b", 1}, {"ab", 1 << 29}}}}}})),
            "bad.json: field 'model.vocab.ab': id 536870912 lies more than 1048576 past the vocabulary's 3 entries");
  EXPECT_EQ(Tokenizer::from_json(tokenizer_json({{"model", {{"vocab", {{"a", 0}, {"b", 1}, {"ab", 1000}}}}}}))
                .encode("ab"),
            (std::vector<int>{1000}));
}

// Found by tokenizer_json_fuzz: a template's special token with id -1 came out of encode.
TEST(TokenizerErrors, PostProcessorIdOutsideTheVocabularyIsRefused) {
  auto with_bos_id = [](int id) {
    return tokenizer_json({{"post_processor",
                            {{"type", "TemplateProcessing"},
                             {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                         {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                             {"pair", nlohmann::json::array()},
                             {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {id}}, {"tokens", {"<s>"}}}}}}}}});
  };
  EXPECT_EQ(load_error(with_bos_id(-1)), "bad.json: field 'post_processor': adds token id -1, outside the vocabulary of 3 ids");
  EXPECT_EQ(load_error(with_bos_id(3)), "bad.json: field 'post_processor': adds token id 3, outside the vocabulary of 3 ids");
  EXPECT_EQ(Tokenizer::from_json(with_bos_id(2)).encode("a"), (std::vector<int>{2, 0}));
}

TEST(TokenizerErrors, UnknownModelTypeNamesModelType) {
  const auto msg = load_error(tokenizer_json({{"model", {{"type", "Unigram"}}}}));
  EXPECT_NE(msg.find("'model.type'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Unigram"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MissingMergesNamesModelMerges) {
  const auto msg = load_error(tokenizer_json({{"model", {{"merges", nullptr}}}}));
  EXPECT_NE(msg.find("'model.merges'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST(TokenizerErrors, MergeOutsideVocabularyNamesTheMergeIndex) {
  const auto msg = load_error(tokenizer_json({{"model", {{"merges", {"a b", "b c"}}}}}));
  EXPECT_NE(msg.find("'model.merges[1]'"), std::string::npos) << msg;
  const auto shape = load_error(tokenizer_json({{"model", {{"merges", {"ab"}}}}}));
  EXPECT_NE(shape.find("'model.merges[0]'"), std::string::npos) << shape;
}

TEST(TokenizerErrors, RegexThatDoesNotCompileNamesThePattern) {
  const nlohmann::json split = {{"type", "Split"}, {"pattern", {{"Regex", "(\\p{L}+"}}}, {"behavior", "Isolated"}};
  const nlohmann::json seq = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}}, split}}};
  const auto msg = load_error(tokenizer_json({{"pre_tokenizer", seq}}));
  EXPECT_NE(msg.find("'pre_tokenizer.pretokenizers[1].pattern'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not compile"), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind("bad.json: ", 0), 0u) << msg;  // named by the loader (tokenizer_json_fuzz found it missing)
}

TEST(TokenizerErrors, UnknownPipelineTypesAreNamed) {
  EXPECT_NE(load_error(tokenizer_json({{"pre_tokenizer", {{"type", "BertPreTokenizer"}}}})).find("'pre_tokenizer.type'"),
            std::string::npos);
  EXPECT_NE(load_error(tokenizer_json({{"normalizer", {{"type", "Precompiled"}}}})).find("'normalizer.type'"),
            std::string::npos);
  EXPECT_NE(load_error(tokenizer_json({{"decoder", {{"type", "WordPiece"}}}})).find("'decoder.type'"), std::string::npos);
  const nlohmann::json split = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  EXPECT_NE(load_error(tokenizer_json({{"pre_tokenizer", split}})).find("'pre_tokenizer.behavior'"), std::string::npos);
}

TEST(TokenizerErrors, BrokenAddedTokensAndTemplatesAreNamed) {
  const auto added = load_error(tokenizer_json({{"added_tokens", {{{"id", 5}}}}}));
  EXPECT_NE(added.find("'added_tokens[0].content'"), std::string::npos) << added;
  const nlohmann::json tmpl = {{"type", "TemplateProcessing"},
                               {"single", {{{"SpecialToken", {{"id", "<s>"}}}}, {{"Sequence", {{"id", "A"}}}}}},
                               {"special_tokens", nlohmann::json::object()}};
  const auto post = load_error(tokenizer_json({{"post_processor", tmpl}}));
  EXPECT_NE(post.find("'post_processor.special_tokens.<s>'"), std::string::npos) << post;
}

TEST(TokenizerErrors, MissingFileAndDirectoryWithoutTokenizerJson) {
  EXPECT_THROW(Tokenizer::from_file("/nonexistent/tokenizer.json"), Error);
  EXPECT_THROW(Tokenizer::from_file(GRPO_SOURCE_DIR "/tests"), Error);
}

}  // namespace
}  // namespace grpo
