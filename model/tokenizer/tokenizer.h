// grpo.cpp's tokenizer: reads a Hugging Face tokenizer.json natively and encodes/decodes
// token for token like the `tokenizers` library. Pipeline: added tokens (leftmost-longest,
// before anything else) -> normalizer -> pre-tokenizer -> BPE -> post-processor; decoding
// runs the decoder chain. Supported: byte-level BPE (GPT-2/Llama-3/Qwen2/DeepSeek-V3
// style) and SentencePiece-style BPE tokenizer.json (Metaspace or Prepend+Replace
// normalizers, byte_fallback, the Replace/ByteFallback/Fuse/Strip decoders). Not
// supported: WordPiece, Unigram and WordLevel models, offsets, truncation and padding,
// pair sequences, BPE dropout. Unsupported sections fail at load with the field named.
//
// A Tokenizer is immutable after loading; copies share the loaded data, and every method
// is safe to call from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"

namespace grpo {

// Special tokens known from tokenizer_config.json (bos_token, eos_token, pad_token).
struct SpecialTokenIds {
  std::optional<int> bos;
  std::optional<int> eos;
  std::optional<int> pad;
};

class Tokenizer {
 public:
  // `path` is a tokenizer.json file, or a directory holding tokenizer.json and optionally
  // tokenizer_config.json (special tokens, chat_template, add_bos_token/add_eos_token for
  // Llama tokenizer classes, applied the way transformers' LlamaTokenizerFast does).
  static Tokenizer from_file(const std::string& path);
  // The contents of a tokenizer.json; `source` names it in error messages.
  static Tokenizer from_json(const std::string& json_text, const std::string& source = "<tokenizer.json>");

  // Invalid UTF-8 in `text` is replaced by U+FFFD first (the text Python would pass).
  std::vector<int> encode(std::string_view text, bool add_special_tokens = true) const;
  // Encodes on `pool` (ThreadPool::shared() when null); results are in input order.
  std::vector<std::vector<int>> encode_batch(const std::vector<std::string>& texts, bool add_special_tokens = true,
                                             ThreadPool* pool = nullptr) const;
  // Ids outside the vocabulary are skipped, as Hugging Face does.
  std::string decode(const std::vector<int>& ids, bool skip_special_tokens = false) const;

  std::optional<int> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int id) const;
  // One past the largest id of the model vocabulary and the added tokens.
  size_t vocab_size() const;
  bool is_special(int id) const;  // an added token marked "special"
  const SpecialTokenIds& special_ids() const;
  // The chat_template of tokenizer_config.json ("" when there is none).
  const std::string& chat_template() const;
  // Where the tokenizer was read from (file or directory).
  const std::string& source() const;

  struct Impl;

 private:
  friend class StreamDecoder;
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Incremental detokenization for streaming generation: push ids as they are sampled and get
// back only text that is complete. Text is held while it ends in an incomplete UTF-8
// sequence (shown as U+FFFD), so emitted chunks are always valid UTF-8 and never change
// later; the concatenation of every push() and finish() equals tokenizer.decode(all ids).
// With byte_fallback, a run of <0xNN> tokens is held until it ends, because the ByteFallback
// decoder judges a run's validity as a whole.
class StreamDecoder {
 public:
  explicit StreamDecoder(Tokenizer tokenizer, bool skip_special_tokens = false);
  // The new complete text after this id ("" while it is still incomplete).
  std::string push(int id);
  // The rest of the text, complete or not; the decoder is then empty again.
  std::string finish();

 private:
  Tokenizer tokenizer_;
  bool skip_special_;
  std::vector<int> window_;     // context ids + ids whose text is not emitted yet
  size_t context_ = 0;          // how many ids at the front of window_ are context
  std::string context_text_;    // decode of the context ids
};

}  // namespace grpo
