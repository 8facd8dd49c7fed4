// GGUF tokenizer metadata -> Hugging Face tokenizer files. Round trips: each fixture tokenizer
// is turned into the tokenizer.ggml.* metadata llama.cpp's converter would write, converted
// back, loaded with grpo::Tokenizer and checked against what transformers' own GGUF tokenizer
// conversion does with the same metadata (data/gguf_tokenizer/*.json, made by make_cases.py
// there), and against the fixture's own ids wherever transformers keeps them. Also: the
// config file, merges derived from SentencePiece scores, byte-level respelling, end-of-turn
// ids, and the errors for bad metadata.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "core/error.h"
#include "model/gguf/gguf_tokenizer.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/common/fixtures.h"
#include "tests/model/test_util.h"

namespace grpo::model::gguf {
namespace {

using Json = nlohmann::json;
using grpo::testing::fixtures_root;
using grpo::model::testing::scratch_dir;

constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;

Json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return Json::parse(in);
}

const std::filesystem::path kCasesDir = std::filesystem::path(GRPO_SOURCE_DIR) / "tests" / "model" / "data" / "gguf_tokenizer";

// "shared:qwen2" -> the shared fixture folder, "local:sp_metaspace" -> tests/tokenizer/data.
std::filesystem::path tokenizer_folder(const std::string& name) {
  const std::string folder = name.substr(name.find(':') + 1);
  if (name.rfind("shared:", 0) == 0) return fixtures_root() / "tokenizers" / folder;
  return std::filesystem::path(GRPO_SOURCE_DIR) / "tests" / "tokenizer" / "data" / folder;
}

// Every token by id: model.vocab plus added_tokens.
std::map<int64_t, std::string> tokens_by_id(const Json& tokenizer) {
  std::map<int64_t, std::string> by_id;
  for (const auto& [token, id] : tokenizer["model"]["vocab"].items()) by_id[id.get<int64_t>()] = token;
  for (const auto& a : tokenizer["added_tokens"]) by_id[a["id"].get<int64_t>()] = a["content"].get<std::string>();
  return by_id;
}

// convert_hf_to_gguf.py's does_token_look_special.
bool looks_special(const std::string& t) {
  const auto wrapped = [&](const std::string& open, const std::string& close) {
    return t.size() >= open.size() + close.size() && t.rfind(open, 0) == 0 &&
           t.compare(t.size() - close.size(), close.size(), close) == 0;
  };
  return t == "<pad>" || t == "<mask>" || wrapped("<|", "|>") || wrapped("<\uff5c", "\uff5c>") || wrapped("<unused", ">");
}

// Byte-level BPE as convert_hf_to_gguf.py's get_vocab_base writes it: ids without a token
// become [PADn] (unused), special-looking added tokens are control, other added tokens
// user-defined, and merges are "left right". (Its decode(encode(token)) round trip of
// non-normalized added tokens is the identity for these fixtures and is left out.)
GgufVocab byte_level_vocab_like_llama_cpp(const Json& tokenizer) {
  GgufVocab v;
  const auto by_id = tokens_by_id(tokenizer);
  std::map<int64_t, bool> added_special;
  for (const auto& a : tokenizer["added_tokens"]) added_special[a["id"].get<int64_t>()] = a["special"].get<bool>();
  for (int64_t id = 0; id <= by_id.rbegin()->first; ++id) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) {
      v.tokens.push_back("[PAD" + std::to_string(id) + "]");
      v.token_types.push_back(kUnused);
      continue;
    }
    const auto added = added_special.find(id);
    v.tokens.push_back(it->second);
    if (added == added_special.end()) v.token_types.push_back(kNormal);
    else v.token_types.push_back(added->second || looks_special(it->second) ? kControl : kUserDefined);
  }
  for (const auto& m : tokenizer["model"]["merges"])
    v.merges.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  return v;
}

// A SentencePiece vocabulary as llama.cpp's converter reads it from the .model: a piece made
// by merge r scores -r (SentencePiece BPE scores pieces by merge order), every other piece 0;
// <0xNN> pieces are byte tokens, the unknown piece unknown, special added tokens control.
// No merges are written.
GgufVocab sentencepiece_vocab_like_llama_cpp(const Json& tokenizer) {
  GgufVocab v;
  std::map<std::string, int> merge_rank;
  const Json& merges = tokenizer["model"]["merges"];
  for (size_t r = 0; r < merges.size(); ++r) {
    const Json& m = merges[r];
    const std::string piece = m.is_string() ? std::regex_replace(m.get<std::string>(), std::regex(" "), "")
                                            : m[0].get<std::string>() + m[1].get<std::string>();
    merge_rank.emplace(piece, static_cast<int>(r));
  }
  std::map<int64_t, bool> added_special;
  for (const auto& a : tokenizer["added_tokens"]) added_special[a["id"].get<int64_t>()] = a["special"].get<bool>();
  const std::string unk = tokenizer["model"].value("unk_token", "");
  const std::regex byte_piece("<0x[0-9A-F]{2}>");
  for (const auto& [id, token] : tokens_by_id(tokenizer)) {
    EXPECT_EQ(id, static_cast<int64_t>(v.tokens.size())) << "SentencePiece ids are dense";
    v.tokens.push_back(token);
    const auto rank = merge_rank.find(token);
    v.scores.push_back(rank == merge_rank.end() ? 0.0f : -static_cast<float>(rank->second));
    const auto added = added_special.find(id);
    if (std::regex_match(token, byte_piece)) v.token_types.push_back(kByte);
    else if (token == unk) v.token_types.push_back(kUnknown);
    else if (added != added_special.end()) v.token_types.push_back(added->second ? kControl : kUserDefined);
    else v.token_types.push_back(kNormal);
  }
  return v;
}

// The vocabulary a reference file describes: its tokenizer as llama.cpp writes it, plus the
// reference's GGUF metadata (model, pre, special ids, add_bos/add_eos).
GgufVocab reference_vocab(const Json& reference) {
  const Json& meta = reference["gguf"];
  const Json tokenizer = read_json(tokenizer_folder(reference["tokenizer"]) / "tokenizer.json");
  GgufVocab v = meta["model"] == "gpt2" ? byte_level_vocab_like_llama_cpp(tokenizer)
                                        : sentencepiece_vocab_like_llama_cpp(tokenizer);
  v.model = meta["model"];
  v.pre = meta["pre"];
  using Field = std::pair<const char*, std::optional<int64_t>*>;
  const std::vector<Field> ids = {{"bos_id", &v.bos_id}, {"eos_id", &v.eos_id}, {"unk_id", &v.unk_id}, {"pad_id", &v.pad_id}};
  for (const auto& [key, field] : ids)
    if (meta.contains(key)) *field = meta[key].get<int64_t>();
  if (meta.contains("add_bos")) v.add_bos = meta["add_bos"].get<bool>();
  if (meta.contains("add_eos")) v.add_eos = meta["add_eos"].get<bool>();
  return v;
}

struct CaseCounts {
  size_t cases = 0;
  size_t same_as_fixture = 0;  // cases where transformers' conversion keeps the fixture's ids
};

// Checks every case of one reference file, and the fixture's own ids where transformers keeps them.
CaseCounts check_reference(const std::string& name) {
  const Json reference = read_json(kCasesDir / (name + ".json"));
  const Tokenizer tok = Tokenizer::from_json(tokenizer_files_from_gguf(reference_vocab(reference), name + ".gguf").tokenizer_json);
  const Json fixture_cases = read_json(tokenizer_folder(reference["tokenizer"]) / "encode_cases.json")["cases"];
  const Json& cases = reference["cases"];
  EXPECT_EQ(cases.size(), fixture_cases.size()) << name;
  CaseCounts counts{cases.size(), 0};
  for (size_t i = 0; i < cases.size() && i < fixture_cases.size(); ++i) {
    const Json& c = cases[i];
    const auto text = c["text"].get<std::string>();
    const auto ids = c["ids"].get<std::vector<int>>();
    EXPECT_EQ(tok.encode(text, true), ids) << name << " text: " << c["text"].dump();
    EXPECT_EQ(tok.encode(text, false), c["ids_no_special"].get<std::vector<int>>()) << name << " text: " << c["text"].dump();
    EXPECT_EQ(tok.decode(ids, false), c["decoded"].get<std::string>()) << name << " text: " << c["text"].dump();
    EXPECT_EQ(tok.decode(ids, true), c["decoded_skip_special"].get<std::string>()) << name << " text: " << c["text"].dump();
    if (c["same_as_fixture"].get<bool>()) {
      EXPECT_EQ(tok.encode(text, true), fixture_cases[i]["ids"].get<std::vector<int>>()) << name << " text: " << c["text"].dump();
      ++counts.same_as_fixture;
    }
  }
  return counts;
}

TEST(GgufTokenizer, ByteLevelFixturesTokenizeLikeTransformersGgufConversion) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  // llama-bpe keeps every fixture id. qwen2 loses the NFC normalizer and deepseek-v3 falls back
  // to GPT-2's regex in transformers' conversion: a few of their cases differ from the fixture.
  const CaseCounts llama3 = check_reference("llama3");
  EXPECT_EQ(llama3.same_as_fixture, llama3.cases);
  for (const char* name : {"qwen2", "deepseek_v3"}) {
    const CaseCounts counts = check_reference(name);
    EXPECT_GE(counts.same_as_fixture * 4, counts.cases * 3) << name;
  }
}

TEST(GgufTokenizer, SentencePieceVocabulariesTokenizeLikeTransformersGgufConversion) {
  // Merges come from the scores here. The legacy variant prepends "▁" to text that starts with a
  // space and after every added token, where transformers' Metaspace (prepend "first") does not.
  const CaseCounts metaspace = check_reference("sp_metaspace");
  EXPECT_EQ(metaspace.same_as_fixture, metaspace.cases);
  const CaseCounts legacy = check_reference("sp_llama2_legacy");
  EXPECT_GE(legacy.same_as_fixture * 4, legacy.cases * 3);
}

GgufVocab qwen2_vocab() {
  const Json tokenizer = read_json(fixtures_root() / "tokenizers" / "qwen2" / "tokenizer.json");
  GgufVocab v = byte_level_vocab_like_llama_cpp(tokenizer);
  v.model = "gpt2";
  v.pre = "qwen2";
  return v;
}

TEST(GgufTokenizer, WrittenFilesLoadWithSpecialTokensAndChatTemplate) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  GgufVocab v = qwen2_vocab();
  v.bos_id = 1;
  v.eos_id = 2;
  v.pad_id = 0;
  v.chat_template = "{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}";
  const TokenizerFiles files = tokenizer_files_from_gguf(v, "qwen2.gguf");
  const auto dir = scratch_dir("gguf_tokenizer");
  std::ofstream(dir / "tokenizer.json") << files.tokenizer_json;
  std::ofstream(dir / "tokenizer_config.json") << files.tokenizer_config_json;
  const Tokenizer tok = Tokenizer::from_file(dir.string());

  EXPECT_EQ(tok.special_ids().bos, 1);
  EXPECT_EQ(tok.special_ids().eos, 2);
  EXPECT_EQ(tok.special_ids().pad, 0);
  EXPECT_EQ(tok.chat_template(), v.chat_template);
  EXPECT_EQ(tok.vocab_size(), v.tokens.size());
  // Control tokens are special and whole; user-defined ones whole but not special.
  EXPECT_TRUE(tok.is_special(1));
  EXPECT_FALSE(tok.is_special(937));
  const auto ids = tok.encode("<|im_start|>x<think>y", true);  // gpt2 vocabularies add no BOS by default
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 937), ids.end());
  EXPECT_EQ(tok.decode(ids, true), "x<think>y");

  const Json config = Json::parse(files.tokenizer_config_json);
  EXPECT_EQ(config["bos_token"], "<|im_start|>");
  EXPECT_EQ(config["eos_token"], "<|im_end|>");
  EXPECT_EQ(config["pad_token"], "<|endoftext|>");
  EXPECT_TRUE(config["unk_token"].is_null());
  EXPECT_EQ(config["add_bos_token"], false);
  EXPECT_EQ(config["add_eos_token"], false);
  EXPECT_EQ(config["tokenizer_class"], "PreTrainedTokenizerFast");
}

TEST(GgufTokenizer, AddBosDefaultsToOnForSentencePieceAndFollowsTheFlag) {
  const Json tokenizer = read_json(tokenizer_folder("local:sp_metaspace") / "tokenizer.json");
  GgufVocab v = sentencepiece_vocab_like_llama_cpp(tokenizer);
  v.model = "llama";
  v.bos_id = 1;
  v.eos_id = 2;
  const auto encode = [&](const GgufVocab& vocab) {
    return Tokenizer::from_json(tokenizer_files_from_gguf(vocab, "sp.gguf").tokenizer_json).encode("the fox", true);
  };
  EXPECT_EQ(encode(v).front(), 1);
  EXPECT_EQ(Json::parse(tokenizer_files_from_gguf(v, "sp.gguf").tokenizer_config_json)["add_bos_token"], true);
  v.add_bos = false;
  v.add_eos = true;
  const auto ids = encode(v);
  EXPECT_NE(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
}

std::vector<std::vector<std::string>> merges_of(const TokenizerFiles& files) {
  return Json::parse(files.tokenizer_json)["model"]["merges"].get<std::vector<std::vector<std::string>>>();
}

TEST(GgufTokenizer, SentencePieceMergesFollowScoresThenLongerLeftPieceThenVocabularyOrder) {
  GgufVocab v;
  v.model = "llama";
  v.tokens = {"c", "b", "a", "bc", "ab", "abc", "cab"};
  v.scores = {0, 0, 0, -1, -1, -2, -2};
  // Score -1: b+c (bc comes first in the vocabulary), a+b. Score -2: ab+c (longer left piece),
  // then a+bc and c+ab, equal on every key, in vocabulary order of their tokens (abc, cab).
  const std::vector<std::vector<std::string>> expected = {{"b", "c"}, {"a", "b"}, {"ab", "c"}, {"a", "bc"}, {"c", "ab"}};
  EXPECT_EQ(merges_of(tokenizer_files_from_gguf(v, "sp.gguf")), expected);
}

TEST(GgufTokenizer, ByteLevelTokensOutsideTheByteAlphabetAreRespelled) {
  GgufVocab v;
  v.model = "gpt2";
  // "\u65e5" is stored as text, its pieces and merges in GPT-2's byte spelling: U+65E5 is
  // E6 97 A5 in UTF-8, which GPT-2's table shows as U+00E6 U+0139 U+00A5.
  v.tokens = {"a", "b", "ab", "\u65e5", "<\uff5cx\uff5c>", "\u00e6", "\u0139", "\u00a5", "\u00e6\u0139"};
  v.token_types = {kNormal, kNormal, kNormal, kNormal, kControl, kNormal, kNormal, kNormal, kNormal};
  v.merges = {"a b", "\u00e6 \u0139", "\u00e6\u0139 \u00a5"};
  v.bos_id = 4;
  const TokenizerFiles files = tokenizer_files_from_gguf(v, "bl.gguf");
  const Json tokenizer = Json::parse(files.tokenizer_json);
  EXPECT_EQ(tokenizer["model"]["vocab"]["\u00e6\u0139\u00a5"], 3);
  EXPECT_EQ(tokenizer["model"]["vocab"]["<\u00ef\u00bd\u013ex\u00ef\u00bd\u013e>"], 4);
  // transformers skips a control token it had to respell; the BOS keeps its id under the
  // vocabulary's spelling instead of being appended past the vocabulary.
  EXPECT_EQ(Json::parse(files.tokenizer_config_json)["bos_token"], "<\u00ef\u00bd\u013ex\u00ef\u00bd\u013e>");
  const Tokenizer tok = Tokenizer::from_json(files.tokenizer_json);
  EXPECT_EQ(tok.encode("ab\u65e5", false), (std::vector<int>{2, 3}));
  EXPECT_EQ(tok.decode({2, 3}, false), "ab\u65e5");
}

TEST(GgufTokenizer, EndOfTurnIdsAreEosEotAndEomWithoutRepeats) {
  GgufVocab v;
  v.model = "gpt2";
  v.tokens = {"a", "b", "ab", "<|eot|>", "<|eom|>", "<|end|>"};
  v.merges = {"a b"};
  v.eos_id = 5;
  v.eot_id = 3;
  v.eom_id = 5;
  EXPECT_EQ(tokenizer_files_from_gguf(v, "t.gguf").end_of_turn_ids, (std::vector<int64_t>{5, 3}));
  v.eos_id.reset();
  v.eom_id = 4;
  EXPECT_EQ(tokenizer_files_from_gguf(v, "t.gguf").end_of_turn_ids, (std::vector<int64_t>{3, 4}));
}

void expect_error(const GgufVocab& v, const std::string& problem) {
  try {
    tokenizer_files_from_gguf(v, "/models/broken.gguf");
    ADD_FAILURE() << "no error for: " << problem;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/models/broken.gguf"), std::string::npos) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << what;
  }
}

TEST(GgufTokenizer, BadMetadataNamesTheFileAndTheProblem) {
  GgufVocab good;
  good.model = "gpt2";
  good.tokens = {"a", "b", "ab"};
  good.merges = {"a b"};
  EXPECT_NO_THROW(tokenizer_files_from_gguf(good, "ok.gguf"));

  GgufVocab v = good;
  v.tokens.clear();
  expect_error(v, "tokenizer.ggml.tokens is empty");
  v = good;
  v.merges = {"a b", "ab zz"};
  expect_error(v, "tokenizer.ggml.merges[1] 'ab zz' needs 'zz', which is not a token");
  v = good;
  v.bos_id = 3;
  expect_error(v, "tokenizer.ggml.bos_token_id is 3, outside the 3 tokens");
  v = good;
  v.eos_id = -1;
  expect_error(v, "tokenizer.ggml.eos_token_id is -1");
  v = good;
  v.scores = {0.0f, -1.0f};
  expect_error(v, "tokenizer.ggml.scores has 2 entries for 3 tokens");
  v = good;
  v.token_types = {kNormal};
  expect_error(v, "tokenizer.ggml.token_type has 1 entries for 3 tokens");
  v = good;
  v.model = "bert";
  expect_error(v, "tokenizer.ggml.model is 'bert'; supported: 'gpt2' (byte-level BPE) and 'llama'");
  v = good;
  v.merges.clear();
  expect_error(v, "needs tokenizer.ggml.merges");
  v = good;
  v.model = "llama";
  v.merges.clear();
  expect_error(v, "needs tokenizer.ggml.scores");
}

}  // namespace
}  // namespace grpo::model::gguf
