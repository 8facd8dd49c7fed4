// Byte-level BPE training; see bpe_trainer.h. Pair counts are kept incrementally (only the
// words holding the merged pair are revisited) and the best pair comes from a lazy max-heap
// whose stale entries are skipped when popped.
#include "model/tokenizer/bpe_trainer.h"

#include <fstream>
#include <queue>
#include <unordered_map>

#include "core/error.h"
#include "core/text/utf8.h"
#include "model/tokenizer/added_vocab.h"
#include "model/tokenizer/components.h"
#include "model/tokenizer/unicode.h"

namespace grpo {
namespace {

using OrderedJson = nlohmann::ordered_json;

const char* const kSplitPattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

OrderedJson pre_tokenizer_json() {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", kSplitPattern}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
}

uint64_t key_of(int a, int b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }

class PairCounter {
 public:
  void add(int a, int b, int64_t n, int word) {
    const uint64_t k = key_of(a, b);
    const int64_t c = counts_[k] += n;
    if (n > 0) where_[k].push_back(word);
    heap_.push({c, ~k});  // ~k: among equal counts the smaller pair comes first
  }
  // The most frequent pair with its count, or count 0 when none is left.
  std::pair<uint64_t, int64_t> best() {
    while (!heap_.empty()) {
      const auto [count, inverted] = heap_.top();
      const uint64_t k = ~inverted;
      if (counts_[k] == count && count > 0) return {k, count};
      heap_.pop();
    }
    return {0, 0};
  }
  std::vector<int> take_words(uint64_t k) { return std::move(where_[k]); }

 private:
  std::unordered_map<uint64_t, int64_t> counts_;
  std::unordered_map<uint64_t, std::vector<int>> where_;
  std::priority_queue<std::pair<int64_t, uint64_t>> heap_;
};

// Unique pre-tokens of the corpus (byte ids) with their counts; added tokens are cut out
// first, as the encoder does.
void count_words(const std::vector<std::string>& corpus, const BpeTrainerOptions& o,
                 std::vector<std::vector<int>>& words, std::vector<int64_t>& freq) {
  tok::AddedVocabulary added;
  std::vector<tok::AddedToken> list;
  for (const auto& s : o.special_tokens) list.push_back({static_cast<int>(list.size()), s, false, false, false, false, true});
  for (const auto& s : o.added_tokens) list.push_back({static_cast<int>(list.size()), s, false, false, false, true, false});
  added.build(list, [](std::string s) { return s; });
  const tok::Fields fields("<bpe trainer>");
  const auto pre = tok::make_pre_tokenizer(nlohmann::json::parse(pre_tokenizer_json().dump()), fields, "pre_tokenizer");
  std::unordered_map<std::string, size_t> index;
  std::vector<tok::Piece> pieces;
  for (const auto& doc : corpus) {
    const std::string text = grpo::to_valid_utf8(doc);
    for (const auto& seg : added.split(text, false)) {
      if (seg.token_id >= 0) continue;
      pieces.assign(1, {text.substr(seg.start, seg.end - seg.start), seg.start == 0});
      pre->split(pieces);
      for (const auto& p : pieces) {
        const auto [it, fresh] = index.emplace(p.text, words.size());
        if (fresh) {
          std::vector<int> ids;  // byte-level characters back to byte values
          for (size_t i = 0; i < p.text.size();) ids.push_back(tok::char_to_byte(tok::next_code_point(p.text, i)));
          words.push_back(std::move(ids));
          freq.push_back(0);
        }
        ++freq[it->second];
      }
    }
  }
}

// Replaces every (a, b) in `w` by `merged`, keeping pair counts in step.
void apply_merge(std::vector<int>& w, int a, int b, int merged, int64_t f, int word, PairCounter& pairs) {
  for (size_t i = 0; i + 1 < w.size();) {
    if (w[i] != a || w[i + 1] != b) {
      ++i;
      continue;
    }
    if (i > 0) {
      pairs.add(w[i - 1], a, -f, word);
      pairs.add(w[i - 1], merged, f, word);
    }
    if (i + 2 < w.size()) {
      pairs.add(b, w[i + 2], -f, word);
      pairs.add(merged, w[i + 2], f, word);
    }
    pairs.add(a, b, -f, word);
    w[i] = merged;
    w.erase(w.begin() + static_cast<std::ptrdiff_t>(i) + 1);
  }
}

}  // namespace

std::string train_byte_level_bpe(const std::vector<std::string>& corpus, const BpeTrainerOptions& o) {
  const auto& byte_text = tok::byte_to_utf8();
  std::vector<std::string> tokens(byte_text.begin(), byte_text.end());  // symbol id -> byte-level text
  std::unordered_map<std::string, int> token_ids;
  for (int b = 0; b < 256; ++b) token_ids[tokens[static_cast<size_t>(b)]] = b;
  const size_t added_count = o.special_tokens.size() + o.added_tokens.size();

  std::vector<std::vector<int>> words;
  std::vector<int64_t> freq;
  count_words(corpus, o, words, freq);
  PairCounter pairs;
  for (size_t w = 0; w < words.size(); ++w)
    for (size_t i = 0; i + 1 < words[w].size(); ++i) pairs.add(words[w][i], words[w][i + 1], freq[w], static_cast<int>(w));

  OrderedJson merges = OrderedJson::array();
  std::vector<int> seen(words.size(), -1);
  while (added_count + tokens.size() < o.vocab_size) {
    const auto [key, count] = pairs.best();
    if (count < static_cast<int64_t>(std::max<size_t>(o.min_frequency, 1))) break;
    const int a = static_cast<int>(key >> 32), b = static_cast<int>(key & 0xffffffffu);
    const std::string text = tokens[static_cast<size_t>(a)] + tokens[static_cast<size_t>(b)];
    auto [it, fresh] = token_ids.emplace(text, static_cast<int>(tokens.size()));
    if (fresh) tokens.push_back(text);
    merges.push_back({tokens[static_cast<size_t>(a)], tokens[static_cast<size_t>(b)]});
    const int iteration = static_cast<int>(merges.size());
    for (int w : pairs.take_words(key)) {
      if (seen[static_cast<size_t>(w)] == iteration) continue;  // listed twice
      seen[static_cast<size_t>(w)] = iteration;
      apply_merge(words[static_cast<size_t>(w)], a, b, it->second, freq[static_cast<size_t>(w)], w, pairs);
    }
  }

  OrderedJson added = OrderedJson::array(), vocab = OrderedJson::object();
  int id = 0;
  for (const auto* list : {&o.special_tokens, &o.added_tokens})
    for (const auto& t : *list) {
      const bool special = list == &o.special_tokens;
      added.push_back({{"id", id}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", !special}, {"special", special}});
      vocab[t] = id++;
    }
  for (const auto& t : tokens) vocab[t] = id++;
  OrderedJson model = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                       {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                       {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
                       {"vocab", vocab}, {"merges", merges}};
  OrderedJson j = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
                   {"normalizer", nullptr}, {"pre_tokenizer", pre_tokenizer_json()}, {"post_processor", nullptr},
                   {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
                   {"model", model}};
  return j.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void write_byte_level_bpe(const std::string& path, const std::vector<std::string>& corpus, const BpeTrainerOptions& o) {
  const std::string text = train_byte_level_bpe(corpus, o);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(SourceLocation{path, 0, 0}, "cannot write tokenizer file");
  out << text;
  if (!out) throw Error(SourceLocation{path, 0, 0}, "write failed");
}

}  // namespace grpo
