// The token ids that end a generation, decided the way Hugging Face's generate() decides them:
// generation_config.json's `eos_token_id` (one id or a list: Qwen2.5-Instruct stops at both
// <|im_end|> and <|endoftext|>), or the model config's when generation_config.json is absent or
// names none (null or []): ModelConfig::eos_token_ids, parsed once from config.json with
// transformers' default for the model_type where the key is left out (Llama's 2); the tokenizer's
// own end token is added on top (a config naming none still stops). Order is kept: the first id is the one SFT appends to its targets. Stop strings are
// not here; the rollout engine matches them on the decoded text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "model/arch/config.h"

namespace grpo::model {

// `config` is model_dir's config.json. Ids are checked against its vocab_size; a malformed or
// out-of-range eos_token_id is an error naming the file and the key.
std::vector<int64_t> end_of_sequence_ids(const std::filesystem::path& model_dir, const ModelConfig& config,
                                         std::optional<int64_t> tokenizer_eos);

}  // namespace grpo::model
