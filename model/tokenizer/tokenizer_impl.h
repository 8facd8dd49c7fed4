// What a loaded Tokenizer holds (private to model/tokenizer/): the pipeline stages, the
// BPE model, the added vocabulary and what tokenizer_config.json contributed. Split from
// tokenizer.h so that the public header does not pull in JSON or PCRE2.
#pragma once

#include <memory>
#include <string>

#include "model/tokenizer/added_vocab.h"
#include "model/tokenizer/bpe.h"
#include "model/tokenizer/components.h"
#include "model/tokenizer/tokenizer.h"

namespace grpo {

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<tok::Normalizer> normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tok::BpeModel> model;
  std::unique_ptr<tok::PostProcessor> post_processor;
  std::unique_ptr<tok::Decoder> decoder;
  tok::AddedVocabulary added;
  SpecialTokenIds special;
  std::string chat_template;
  size_t vocab_size = 0;
};

namespace tok {
// Builds the pipeline from a parsed tokenizer.json (errors name fields of `source`).
std::shared_ptr<Tokenizer::Impl> load_tokenizer_json(const Json& j, const std::string& source);
// Reads tokenizer_config.json into `impl` (special tokens, chat template, Llama BOS/EOS).
void apply_tokenizer_config(const Json& j, const std::string& source, Tokenizer::Impl& impl);
}  // namespace tok

}  // namespace grpo
