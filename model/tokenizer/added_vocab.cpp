// Added-token matching; see added_vocab.h. Word characters for single_word are Rust's
// char::is_alphanumeric plus '_' (Alphabetic or Numeric), checked through PCRE2.
#include "model/tokenizer/added_vocab.h"

#include "model/tokenizer/regex.h"
#include "model/tokenizer/unicode.h"

namespace grpo::tok {

void TokenTrie::add(const std::string& text, size_t index) {
  if (text.empty()) return;
  uint32_t node = 0;
  for (unsigned char c : text) {
    auto it = nodes_[node].next.find(c);
    if (it == nodes_[node].next.end()) {
      nodes_.push_back(Node{});
      it = nodes_[node].next.emplace(c, static_cast<uint32_t>(nodes_.size() - 1)).first;
    }
    node = it->second;
  }
  // The first token listed wins when two share a content, as in tokenizer.json order.
  if (nodes_[node].entry < 0) nodes_[node].entry = static_cast<int64_t>(index);
  first_byte_[static_cast<unsigned char>(text[0])] = true;
}

size_t TokenTrie::longest_at(std::string_view text, size_t pos, size_t& index) const {
  if (!first_byte_[static_cast<unsigned char>(text[pos])]) return 0;
  uint32_t node = 0;
  size_t best = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto it = nodes_[node].next.find(static_cast<unsigned char>(text[i]));
    if (it == nodes_[node].next.end()) break;
    node = it->second;
    if (nodes_[node].entry >= 0) {
      best = i + 1 - pos;
      index = static_cast<size_t>(nodes_[node].entry);
    }
  }
  return best;
}

namespace {

bool is_word_char(std::string_view text, size_t start, size_t end) {
  static const Regex word("^[\\p{Alphabetic}\\p{N}_]$", false, "single_word");
  thread_local std::vector<Match> matches;
  word.find_all(text.substr(start, end - start), matches);
  return !matches.empty();
}

// True when the last character of text[0, pos) is a word character.
bool word_before(std::string_view text, size_t pos) {
  if (pos == 0) return false;
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return is_word_char(text, start, pos);
}

bool word_after(std::string_view text, size_t pos) {
  if (pos >= text.size()) return false;
  size_t end = pos;
  next_code_point(text, end);
  return is_word_char(text, pos, end);
}

// Start of the whitespace run that ends at `pos`.
size_t whitespace_start_before(std::string_view text, size_t pos) {
  size_t start = pos;
  while (start > 0) {
    size_t prev = start - 1;
    while (prev > 0 && (static_cast<unsigned char>(text[prev]) & 0xC0) == 0x80) --prev;
    size_t i = prev;
    if (!is_whitespace(next_code_point(text, i))) break;
    start = prev;
  }
  return start;
}

size_t whitespace_end_after(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size()) {
    size_t i = end;
    if (!is_whitespace(next_code_point(text, i))) break;
    end = i;
  }
  return end;
}

}  // namespace

std::vector<Segment> AddedVocabulary::split(std::string_view text, bool normalized_pass) const {
  std::vector<Segment> out;
  const TokenTrie& trie = normalized_pass ? normalized_trie_ : raw_trie_;
  if (text.empty()) return out;
  if (trie.empty()) {
    out.push_back({0, text.size(), -1});
    return out;
  }
  size_t emitted = 0;  // text before this offset is already in `out`
  for (size_t pos = 0; pos < text.size();) {
    size_t index = 0;
    const size_t len = trie.longest_at(text, pos, index);
    if (len == 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[index];
    size_t start = pos, stop = pos + len;
    if (start < emitted || (token.single_word && (word_before(text, start) || word_after(text, stop)))) {
      pos += len;  // a rejected match still consumes its text, as in Aho-Corasick iteration
      continue;
    }
    if (token.lstrip) start = std::max(whitespace_start_before(text, start), emitted);
    if (token.rstrip) stop = whitespace_end_after(text, stop);
    if (start > emitted) out.push_back({emitted, start, -1});
    out.push_back({start, stop, token.id});
    emitted = stop;
    pos = pos + len;
  }
  if (emitted < text.size()) out.push_back({emitted, text.size(), -1});
  return out;
}

const AddedToken* AddedVocabulary::find_id(int id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::find_content(std::string_view content) const {
  const auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace grpo::tok
