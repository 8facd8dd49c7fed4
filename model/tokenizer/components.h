// The stages of a tokenizer.json pipeline as small interfaces, each built from its JSON
// section: normalizer (text -> text), pre-tokenizer (pieces -> finer pieces), decoder
// (token strings -> text pieces) and post-processor (ids -> ids with BOS/EOS). Offsets and
// type ids are not tracked: grpo.cpp only needs ids and text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/tokenizer/json_fields.h"

namespace grpo::tok {

// A pre-token. `at_start` is true when it begins at offset 0 of the input (Metaspace's
// prepend_scheme "first" needs that).
struct Piece {
  std::string text;
  bool at_start = false;
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` with its refinement; never produces empty pieces.
  virtual void split(std::vector<Piece>& pieces) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Hugging Face's decode_chain: token strings in, text chunks out (joined by the caller).
  virtual void decode(std::vector<std::string>& tokens) const = 0;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds special tokens around `ids` (called only when add_special_tokens is true).
  virtual void process(std::vector<int>& ids) const = 0;
};

// Each returns nullptr for a JSON null section. `path` is the field path for errors.
std::unique_ptr<Normalizer> make_normalizer(const Json& j, const Fields& f, const std::string& path);
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j, const Fields& f, const std::string& path);
std::unique_ptr<Decoder> make_decoder(const Json& j, const Fields& f, const std::string& path);
std::unique_ptr<PostProcessor> make_post_processor(const Json& j, const Fields& f, const std::string& path);

// A Split/Replace "pattern" field: {"String": "..."} (literal, second = true) or {"Regex": "..."}.
std::pair<std::string, bool> read_pattern(const Json& j, const Fields& f, const std::string& path);

// The type name of a section, or an error naming `path.type`.
std::string section_type(const Json& j, const Fields& f, const std::string& path);

}  // namespace grpo::tok
