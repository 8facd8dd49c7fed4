// GGUF tokenizer metadata -> tokenizer.json and tokenizer_config.json, built the way
// transformers' own GGUF tokenizer conversion builds them (transformers 5.x,
// integrations/gguf/gguf_tokenizer_mapping.py), so that grpo.cpp, transformers loading the
// written files, and transformers loading the GGUF itself all tokenize alike:
//  - "gpt2": GPT2Tokenizer's byte-level BPE (no normalizer, ByteLevel decoder) over the file's
//    merges; tokens outside the byte alphabet are respelled byte by byte. The pre-tokenizer is
//    the regex transformers keys on tokenizer.ggml.pre (Llama-3, Qwen2, Qwen3.5, Tekken,
//    GPT-4o families), else ByteLevel's own GPT-2 regex (e.g. "smollm", "gpt-2").
//  - "llama": LlamaTokenizer's SentencePiece-style BPE (Metaspace prepend "first", byte
//    fallback, Replace/ByteFallback/Fuse/Strip decoder); merges come from the file or, as
//    usual, are derived from the token scores (transformers' generate_merges).
// Control tokens become special added tokens (for "gpt2" only when spelled in the byte
// alphabet), user-defined ones plain added tokens, and bos/eos/unk/pad special ones.
// Deliberate departure: where transformers would append a special token its vocabulary
// lacks (a byte-level token it respelled), the token keeps its id under its vocabulary
// spelling, so no id ever exceeds the GGUF's vocabulary. Not handled: the Gemma, Phi-3 and
// T5 (unigram) variants transformers special-cases.
#include "model/gguf/gguf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "core/text/utf8.h"
#include "model/tokenizer/unicode.h"

namespace grpo::model::gguf {
namespace {

using Json = nlohmann::json;

// llama.cpp's token types (tokenizer.ggml.token_type).
constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;
constexpr int32_t kMaxTokenType = 6;  // 0 undefined .. 6 byte

const char* const kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen35Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kTekkenSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)"
    R"(|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kGpt4oSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// transformers' GGUF_PRE_TOKENIZER_SPLITS: tokenizer.ggml.pre -> the split regex.
const std::map<std::string, const char*>& pre_tokenizer_splits() {
  static const std::map<std::string, const char*> table = {
      {"llama3", kLlama3Split},      {"llama-v3", kLlama3Split},   {"llama-bpe", kLlama3Split},
      {"falcon3", kLlama3Split},     {"falcon-h1", kLlama3Split},  {"pixtral", kLlama3Split},
      {"midm-2.0", kLlama3Split},    {"lfm2", kLlama3Split},       {"jina-v5-nano", kLlama3Split},
      {"dbrx", kLlama3Split},        {"smaug-bpe", kLlama3Split},  {"tekken", kTekkenSplit},
      {"qwen2", kQwen2Split},        {"deepseek-r1-qwen", kQwen2Split}, {"kormo", kQwen2Split},
      {"f2llmv2", kQwen2Split},      {"megrez", kQwen2Split},      {"qwen35", kQwen35Split},
      {"gpt-4o", kGpt4oSplit},       {"llama4", kGpt4oSplit},      {"kanana2", kGpt4oSplit},
      {"talkie", kGpt4oSplit},       {"minimax-m2", kGpt4oSplit}};
  return table;
}

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw Error(SourceLocation{source, 0, 0}, "GGUF tokenizer metadata: " + problem);
}

void check_special_id(const std::optional<int64_t>& id, const char* key, size_t n_tokens, const std::string& source) {
  if (id && (*id < 0 || static_cast<uint64_t>(*id) >= n_tokens))
    fail(source, std::string(key) + " is " + std::to_string(*id) + ", outside the " + std::to_string(n_tokens) +
                     " tokens of tokenizer.ggml.tokens");
}

void validate(const GgufVocab& v, const std::string& source) {
  if (v.model != "gpt2" && v.model != "llama")
    fail(source, "tokenizer.ggml.model is '" + v.model +
                     "'; supported: 'gpt2' (byte-level BPE) and 'llama' (SentencePiece BPE)");
  const size_t n = v.tokens.size();
  if (n == 0) fail(source, "tokenizer.ggml.tokens is empty");
  for (size_t i = 0; i < n; ++i)
    if (!grpo::is_valid_utf8(v.tokens[i])) fail(source, "tokenizer.ggml.tokens[" + std::to_string(i) + "] is not valid UTF-8");
  if (!v.scores.empty() && v.scores.size() != n)
    fail(source, "tokenizer.ggml.scores has " + std::to_string(v.scores.size()) + " entries for " + std::to_string(n) + " tokens");
  if (!v.token_types.empty() && v.token_types.size() != n)
    fail(source, "tokenizer.ggml.token_type has " + std::to_string(v.token_types.size()) + " entries for " +
                     std::to_string(n) + " tokens");
  for (size_t i = 0; i < v.token_types.size(); ++i)
    if (v.token_types[i] < 0 || v.token_types[i] > kMaxTokenType)
      fail(source, "tokenizer.ggml.token_type[" + std::to_string(i) + "] is " + std::to_string(v.token_types[i]) +
                       " (expected 0..6: undefined, normal, unknown, control, user-defined, unused, byte)");
  check_special_id(v.bos_id, "tokenizer.ggml.bos_token_id", n, source);
  check_special_id(v.eos_id, "tokenizer.ggml.eos_token_id", n, source);
  check_special_id(v.unk_id, "tokenizer.ggml.unknown_token_id", n, source);
  check_special_id(v.pad_id, "tokenizer.ggml.padding_token_id", n, source);
  check_special_id(v.eot_id, "tokenizer.ggml.eot_token_id", n, source);
  check_special_id(v.eom_id, "tokenizer.ggml.eom_token_id", n, source);
  if (v.model == "gpt2" && v.merges.empty()) fail(source, "a byte-level BPE ('gpt2') vocabulary needs tokenizer.ggml.merges");
  if (v.model == "llama" && v.merges.empty() && v.scores.empty())
    fail(source, "a SentencePiece ('llama') vocabulary needs tokenizer.ggml.scores (or tokenizer.ggml.merges)");
}

bool in_byte_alphabet(const std::string& token) {
  for (size_t i = 0; i < token.size();)
    if (tok::char_to_byte(tok::next_code_point(token, i)) < 0) return false;
  return true;
}

// A token outside GPT-2's byte alphabet (an added token stored as plain text) is spelled
// byte by byte, as transformers' byte_level_tokenizer does.
std::string byte_level_spelling(const std::string& token) {
  if (in_byte_alphabet(token)) return token;
  std::string out;
  for (const unsigned char b : token) out += tok::byte_to_utf8()[b];
  return out;
}

// The BPE vocabulary: tokens as tokenizer.json spells them, and text -> id where a repeated
// token keeps its last id (a Python dict built from the list, as transformers builds it).
struct Vocabulary {
  std::vector<std::string> spelled;
  std::unordered_map<std::string, int64_t> id_of;
};

Vocabulary make_vocabulary(const GgufVocab& v) {
  Vocabulary vocab;
  vocab.spelled.reserve(v.tokens.size());
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    vocab.spelled.push_back(v.model == "gpt2" ? byte_level_spelling(v.tokens[i]) : v.tokens[i]);
    vocab.id_of[vocab.spelled.back()] = static_cast<int64_t>(i);
  }
  return vocab;
}

using Merge = std::pair<std::string, std::string>;

std::vector<Merge> merges_from_file(const GgufVocab& v, const Vocabulary& vocab, const std::string& source) {
  std::vector<Merge> merges;
  merges.reserve(v.merges.size());
  for (size_t i = 0; i < v.merges.size(); ++i) {
    const std::string& m = v.merges[i];
    const std::string where = "tokenizer.ggml.merges[" + std::to_string(i) + "] '" + m + "'";
    const size_t space = m.find(' ');
    if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos)
      fail(source, where + " is not two tokens separated by one space");
    Merge merge{m.substr(0, space), m.substr(space + 1)};
    for (const std::string& part : {merge.first, merge.second, merge.first + merge.second})
      if (!vocab.id_of.count(part)) fail(source, where + " needs '" + part + "', which is not a token");
    merges.push_back(std::move(merge));
  }
  return merges;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) tok::next_code_point(s, i);
  return n;
}

// transformers' generate_merges(vocab, vocab_scores): every split of a token into two tokens
// is a merge ranked by the token's score (higher first), then by the longer left and right
// pieces; ties keep vocabulary order. SentencePiece BPE scores a piece by -(merge order).
std::vector<Merge> merges_from_scores(const GgufVocab& v, const Vocabulary& vocab) {
  struct Candidate {
    Merge merge;
    float score;
    size_t left_len, right_len;
  };
  std::vector<Candidate> candidates;
  std::unordered_set<std::string> seen;
  for (size_t id = 0; id < vocab.spelled.size(); ++id) {
    const std::string& token = vocab.spelled[id];
    if (!seen.insert(token).second) continue;  // a repeated token is listed once
    const float score = v.scores[static_cast<size_t>(vocab.id_of.at(token))];
    std::vector<Candidate> local;
    size_t cut = 0;
    tok::next_code_point(token, cut);
    for (size_t left_cps = 1; cut < token.size(); ++left_cps) {
      std::string left = token.substr(0, cut), right = token.substr(cut);
      if (vocab.id_of.count(left) && vocab.id_of.count(right))
        local.push_back({{std::move(left), std::move(right)}, score, left_cps, 0});
      tok::next_code_point(token, cut);
    }
    for (auto& c : local) c.right_len = code_points(c.merge.second);
    std::stable_sort(local.begin(), local.end(), [&](const Candidate& a, const Candidate& b) {
      return std::make_pair(vocab.id_of.at(a.merge.first), vocab.id_of.at(a.merge.second)) <
             std::make_pair(vocab.id_of.at(b.merge.first), vocab.id_of.at(b.merge.second));
    });
    for (auto& c : local) candidates.push_back(std::move(c));
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::make_tuple(a.score, a.left_len, a.right_len) > std::make_tuple(b.score, b.left_len, b.right_len);
  });
  std::vector<Merge> merges;
  merges.reserve(candidates.size());
  for (auto& c : candidates) merges.push_back(std::move(c.merge));
  return merges;
}

Json bpe_model(const GgufVocab& v, const Vocabulary& vocab, const std::vector<Merge>& merges) {
  const bool byte_level = v.model == "gpt2";
  Json model = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"ignore_merges", false}};
  model["continuing_subword_prefix"] = byte_level ? Json("") : Json(nullptr);
  model["end_of_word_suffix"] = byte_level ? Json("") : Json(nullptr);
  model["fuse_unk"] = !byte_level;
  model["byte_fallback"] = !byte_level;
  Json table = Json::object();
  for (const auto& [token, id] : vocab.id_of) table[token] = id;
  model["vocab"] = std::move(table);
  Json list = Json::array();
  for (const auto& [left, right] : merges) list.push_back({left, right});
  model["merges"] = std::move(list);
  return model;
}

Json byte_level_pre_tokenizer(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

// transformers' set_split_regex applies to either model type when the pre name is known.
Json pre_tokenizer(const GgufVocab& v) {
  const auto& splits = pre_tokenizer_splits();
  if (const auto it = splits.find(v.pre); it != splits.end()) {
    const Json split = {{"type", "Split"}, {"pattern", {{"Regex", it->second}}}, {"behavior", "Isolated"}, {"invert", false}};
    return {{"type", "Sequence"}, {"pretokenizers", Json::array({split, byte_level_pre_tokenizer(false)})}};
  }
  if (v.model == "gpt2") return byte_level_pre_tokenizer(true);
  return {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", false}};
}

Json decoder(const GgufVocab& v) {
  if (v.model == "gpt2")
    return {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  const Json steps = Json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}},
                                  {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}});
  return {{"type", "Sequence"}, {"decoders", steps}};
}

// bos/eos/unk/pad as transformers names them: the token's text, when that text is a token.
struct SpecialToken {
  std::string text;
  int64_t id;
};

std::optional<SpecialToken> special_token(const GgufVocab& v, const Vocabulary& vocab, const std::optional<int64_t>& id) {
  if (!id) return std::nullopt;
  const std::string& text = v.tokens[static_cast<size_t>(*id)];
  if (const auto it = vocab.id_of.find(text); it != vocab.id_of.end()) return SpecialToken{text, it->second};
  return SpecialToken{vocab.spelled[static_cast<size_t>(*id)], *id};
}

struct SpecialTokens {
  std::optional<SpecialToken> bos, eos, unk, pad;
};

// added_tokens: control tokens (special), user-defined ones (not special), then the named
// special tokens; a token already added keeps its first flags.
Json added_tokens(const GgufVocab& v, const Vocabulary& vocab, const SpecialTokens& specials) {
  std::map<int64_t, Json> by_id;
  std::unordered_set<std::string> contents;
  const auto add = [&](const std::string& content, int64_t id, bool special) {
    if (!contents.insert(content).second) return;
    by_id.emplace(id, Json{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                           {"rstrip", false}, {"normalized", false}, {"special", special}});
  };
  const bool byte_level = v.model == "gpt2";
  for (const int32_t wanted : {kControl, kUserDefined})
    for (size_t i = 0; i < v.token_types.size(); ++i) {
      if (v.token_types[i] != wanted) continue;
      const std::string& text = v.tokens[i];
      // A control token outside the byte alphabet is a llama.cpp mislabel that transformers
      // skips; a user-defined token counts only when its text is in the vocabulary.
      if (wanted == kControl && byte_level && !in_byte_alphabet(text)) continue;
      const auto it = vocab.id_of.find(text);
      if (it != vocab.id_of.end()) add(text, it->second, wanted == kControl);
    }
  for (const auto* s : {&specials.bos, &specials.eos, &specials.unk, &specials.pad})
    if (*s) add((*s)->text, (*s)->id, true);
  Json list = Json::array();
  for (auto& [id, entry] : by_id) list.push_back(std::move(entry));
  return list;
}

// TemplateProcessing as transformers' update_post_processor writes it: [bos] $A [eos].
Json post_processor(const std::optional<SpecialToken>& bos, const std::optional<SpecialToken>& eos) {
  Json single = Json::array(), pair = Json::array(), special_tokens = Json::object();
  const auto piece = [](const char* kind, const std::string& id, int type_id) {
    return Json{{kind, {{"id", id}, {"type_id", type_id}}}};
  };
  for (int type_id : {0, 1}) {
    Json& seq = type_id == 0 ? single : pair;
    if (bos) seq.push_back(piece("SpecialToken", bos->text, type_id));
    seq.push_back(piece("Sequence", type_id == 0 ? "A" : "B", type_id));
    if (eos) seq.push_back(piece("SpecialToken", eos->text, type_id));
  }
  pair.insert(pair.begin(), single.begin(), single.end());
  for (const auto* s : {&bos, &eos})
    if (*s) special_tokens[(*s)->text] = {{"id", (*s)->text}, {"ids", {(*s)->id}}, {"tokens", {(*s)->text}}};
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", special_tokens}};
}

Json token_or_null(const std::optional<SpecialToken>& s) { return s ? Json(s->text) : Json(nullptr); }

}  // namespace

TokenizerFiles tokenizer_files_from_gguf(const GgufVocab& vocab_in, const std::string& source) {
  validate(vocab_in, source);
  const Vocabulary vocab = make_vocabulary(vocab_in);
  const std::vector<Merge> merges =
      vocab_in.merges.empty() ? merges_from_scores(vocab_in, vocab) : merges_from_file(vocab_in, vocab, source);
  const SpecialTokens specials{special_token(vocab_in, vocab, vocab_in.bos_id), special_token(vocab_in, vocab, vocab_in.eos_id),
                               special_token(vocab_in, vocab, vocab_in.unk_id), special_token(vocab_in, vocab, vocab_in.pad_id)};
  // llama.cpp adds BOS to a SentencePiece vocabulary that does not say otherwise.
  const bool add_bos = vocab_in.add_bos.value_or(vocab_in.model == "llama") && specials.bos.has_value();
  const bool add_eos = vocab_in.add_eos.value_or(false) && specials.eos.has_value();

  const Json tokenizer = {{"version", "1.0"},
                          {"truncation", nullptr},
                          {"padding", nullptr},
                          {"added_tokens", added_tokens(vocab_in, vocab, specials)},
                          {"normalizer", nullptr},
                          {"pre_tokenizer", pre_tokenizer(vocab_in)},
                          {"post_processor", post_processor(add_bos ? specials.bos : std::nullopt,
                                                            add_eos ? specials.eos : std::nullopt)},
                          {"decoder", decoder(vocab_in)},
                          {"model", bpe_model(vocab_in, vocab, merges)}};
  // PreTrainedTokenizerFast: what transformers 5 saves as TokenizersBackend (its alias there),
  // and a name transformers 4 knows too; it takes tokenizer.json as written.
  Json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                 {"add_bos_token", add_bos},
                 {"add_eos_token", add_eos},
                 {"bos_token", token_or_null(specials.bos)},
                 {"eos_token", token_or_null(specials.eos)},
                 {"unk_token", token_or_null(specials.unk)},
                 {"pad_token", token_or_null(specials.pad)},
                 {"clean_up_tokenization_spaces", false}};
  if (!vocab_in.chat_template.empty()) config["chat_template"] = vocab_in.chat_template;

  TokenizerFiles files;
  files.tokenizer_json = tokenizer.dump(2);
  files.tokenizer_config_json = config.dump(2);
  for (const auto& id : {vocab_in.eos_id, vocab_in.eot_id, vocab_in.eom_id})
    if (id && std::find(files.end_of_turn_ids.begin(), files.end_of_turn_ids.end(), *id) == files.end_of_turn_ids.end())
      files.end_of_turn_ids.push_back(*id);
  return files;
}

}  // namespace grpo::model::gguf
