// The token ids that end a generation, decided the way Hugging Face's generate() decides them:
// generation_config.json's `eos_token_id` (one id or a list: Qwen2.5-Instruct stops at both
// <|im_end|> and <|endoftext|>), or config.json's when generation_config.json is absent or names
// none (null or []); the tokenizer's own end token is added on top (a directory without either
// file still stops). Order is kept: the first id is the one SFT appends to its targets. Stop strings are
// not here; the rollout engine matches them on the decoded text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace grpo::model {

// Ids are checked against `vocab_size`; a malformed or out-of-range eos_token_id is an error
// naming the file and the key.
std::vector<int64_t> end_of_sequence_ids(const std::filesystem::path& model_dir, std::optional<int64_t> tokenizer_eos,
                                         int64_t vocab_size);

}  // namespace grpo::model
