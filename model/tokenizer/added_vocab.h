// Added tokens of a tokenizer.json ("added_tokens"): special markers such as <|im_start|> and
// plain added words such as <think>. They are found in the text before normalization and
// pre-tokenization, leftmost-longest, the way Hugging Face tokenizers does it: tokens with
// normalized=false on the raw text, tokens with normalized=true on the normalized text.
// lstrip/rstrip widen a match over neighbouring whitespace; single_word rejects matches
// inside a word. It does not support `encode_special_tokens` (treating specials as text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace grpo::tok {

struct AddedToken {
  int id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A span of text: either a matched added token (token_id >= 0) or text still to be tokenized.
struct Segment {
  size_t start;
  size_t end;
  int token_id;  // -1 for plain text
};

// Leftmost-longest matcher over a fixed set of strings (a byte trie).
class TokenTrie {
 public:
  void add(const std::string& text, size_t index);
  // Length of the longest entry starting at text[pos] (0 if none) and that entry's index.
  size_t longest_at(std::string_view text, size_t pos, size_t& index) const;
  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    std::unordered_map<unsigned char, uint32_t> next;
    int64_t entry = -1;
  };
  std::vector<Node> nodes_{Node{}};
  bool first_byte_[256] = {};
};

class AddedVocabulary {
 public:
  // `normalize` maps a normalized=true token's content to the form it takes in normalized
  // text; pass the identity when the tokenizer has no normalizer.
  template <class Normalize>
  void build(std::vector<AddedToken> tokens, Normalize&& normalize) {
    tokens_ = std::move(tokens);
    for (size_t i = 0; i < tokens_.size(); ++i) {
      const auto& t = tokens_[i];
      by_id_[t.id] = i;
      by_content_[t.content] = i;
      if (t.normalized) normalized_trie_.add(normalize(t.content), i);
      else raw_trie_.add(t.content, i);
    }
  }

  // Splits `text` into added-token matches and the text between them (raw_trie_ when
  // `normalized_pass` is false, normalized_trie_ otherwise). Empty text gives no segments.
  std::vector<Segment> split(std::string_view text, bool normalized_pass) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* find_id(int id) const;
  const AddedToken* find_content(std::string_view content) const;
  bool has_normalized_tokens() const { return !normalized_trie_.empty(); }

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<int, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  TokenTrie raw_trie_;
  TokenTrie normalized_trie_;
};

}  // namespace grpo::tok
