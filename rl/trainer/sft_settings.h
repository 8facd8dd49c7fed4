// The `sft:` config section: supervised fine-tuning on prompt/response records (loss on the
// response only) and pre-training on raw text (loss on every token), for cold starts and for
// making tiny policies from scratch. The optimizer is the shared `optim:` section.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/fields.h"

namespace grpo::rl {

struct SftSettings {
  std::string mode;
  std::string response_field;
  int64_t epochs = 1;
  int64_t max_steps = 0;
  int64_t batch_size = 16;
  int64_t micro_batch_size = 0;
  int64_t tokenizer_vocab = 0;
  int64_t max_length = 1024;
  std::string init_config;
  std::string init_tokenizer;
  int64_t eval_every = 0;
};

inline void describe(config::Fields& f, SftSettings& s) {
  f.choice("mode", s.mode, "response", {"response", "text"},
           "response: loss on the response tokens only (prompt rendered with the template); "
           "text: pre-training, loss on every token of prompt + response.");
  f.field("response_field", s.response_field, "response", "Record field holding the target response.");
  f.field("epochs", s.epochs, 1, "Passes over data.train.");
  f.field("max_steps", s.max_steps, 0, "Stop after this many optimizer steps; 0 = epochs decide.");
  f.field("batch_size", s.batch_size, 16, "Examples per optimizer step.");
  f.field("micro_batch_size", s.micro_batch_size, 0, "Examples per forward/backward (gradient accumulation); 0 = batch_size.");
  f.field("max_length", s.max_length, 1024, "Examples longer than this many tokens are truncated.");
  f.field("init_config", s.init_config, "",
          "Start from a NEW randomly initialized model with this config.json (pre-training from scratch); "
          "empty = load policy.path.");
  f.field("init_tokenizer", s.init_tokenizer, "",
          "With init_config: tokenizer.json to ship with the new model; empty = train a byte-level BPE "
          "tokenizer on data.train.");
  f.field("tokenizer_vocab", s.tokenizer_vocab, 512, "Vocabulary size of a tokenizer trained for init_config (at most the config's vocab_size).");
  f.field("eval_every", s.eval_every, 0, "Report the eval-set loss every N steps; 0 = only at the end.");
}

// Every problem of the section, one message each naming its key ('sft.batch_size'); empty = valid.
inline std::vector<std::string> validate(const SftSettings& s) {
  std::vector<std::string> problems;
  if (s.batch_size < 1) problems.push_back("'sft.batch_size' must be >= 1");
  return problems;
}

}  // namespace grpo::rl
