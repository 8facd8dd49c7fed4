// Makes a small byte-level BPE tokenizer.json from a text corpus, for runs that cannot
// download one (the CPU quickstart). Layout of the result: the given special and added
// tokens first (ids 0..k-1), then the 256 byte tokens in byte order, then one token per
// learned merge. Pre-tokenization is Qwen2's (single digits, letters with an optional
// leading non-letter, punctuation runs, whitespace rules) followed by ByteLevel; no
// normalizer; ByteLevel decoder; no BOS/EOS post-processor. Training is plain BPE on word
// counts: repeatedly merge the most frequent adjacent pair (ties: the smaller pair of ids)
// until the vocabulary is full or no pair occurs `min_frequency` times. It is meant for
// corpora of a few MB and vocabularies of a few thousand tokens, not for production models.
#pragma once

#include <string>
#include <vector>

namespace grpo {

struct BpeTrainerOptions {
  // Total vocabulary: tokens below + 256 bytes + merges. Smaller than 256 + tokens = no merges.
  size_t vocab_size = 1024;
  size_t min_frequency = 2;
  // Added tokens marked special (dropped by decode(skip_special_tokens=true)).
  std::vector<std::string> special_tokens = {"<|endoftext|>"};
  // Added tokens that are ordinary text to decode (kept by skip_special_tokens).
  std::vector<std::string> added_tokens = {"<think>", "</think>", "<answer>", "</answer>"};
};

// The tokenizer.json text learned from `corpus` (each string one document).
std::string train_byte_level_bpe(const std::vector<std::string>& corpus, const BpeTrainerOptions& options = {});
// Trains and writes the result to `path` (a tokenizer.json file).
void write_byte_level_bpe(const std::string& path, const std::vector<std::string>& corpus,
                          const BpeTrainerOptions& options = {});

}  // namespace grpo
