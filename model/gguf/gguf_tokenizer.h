// GGUF tokenizer metadata (tokenizer.ggml.*) as Hugging Face tokenizer files: tokenizer.json for
// byte-level BPE ("gpt2") and SentencePiece ("llama") vocabularies, tokenizer_config.json with the
// special tokens and chat template, and the ids that end a turn. The importer (gguf_import.h)
// collects a GgufVocab from the file's metadata and calls this; it reads no files itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grpo::model::gguf {

struct GgufVocab {
  std::string model;                 // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;                   // tokenizer.ggml.pre ("" when absent), e.g. "smollm", "qwen2", "llama-bpe"
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens
  std::vector<float> scores;         // tokenizer.ggml.scores (empty when absent)
  std::vector<int32_t> token_types;  // tokenizer.ggml.token_type (empty when absent)
  std::vector<std::string> merges;   // tokenizer.ggml.merges (empty when absent)
  std::optional<int64_t> bos_id, eos_id, unk_id, pad_id, eot_id, eom_id;
  std::optional<bool> add_bos, add_eos;   // tokenizer.ggml.add_bos_token / add_eos_token
  std::string chat_template;         // tokenizer.chat_template ("" when absent)
};

struct TokenizerFiles {
  std::string tokenizer_json;         // tokenizer.json text
  std::string tokenizer_config_json;  // tokenizer_config.json text (special tokens, chat_template, add_bos...)
  std::vector<int64_t> end_of_turn_ids;  // ids that end a turn/sequence (eos, eot, eom), for generation_config.json
};

// `source` names the GGUF file in errors.
TokenizerFiles tokenizer_files_from_gguf(const GgufVocab& vocab, const std::string& source);

}  // namespace grpo::model::gguf
