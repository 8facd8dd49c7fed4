// The unit every reader and generator produces: one problem (a prompt text or chat
// messages), its reference answer, any extra fields a reward needs (countdown's `numbers`
// and `target`, code `tests`, ...), and where it came from. Records are plain data; they do
// not know about templates or tokenizers (the tokenizer module renders them).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grpo::datasets {

struct Message {
  std::string role;  // "system", "user", "assistant", ...
  std::string content;
};

// Where a record was read from: a file and 1-based line, or a generator description with
// the record's 1-based index as the line.
struct Provenance {
  std::string file;
  int line = 0;
};

struct Record {
  std::string id;
  std::string prompt;              // the prompt text; empty when `messages` is used
  std::vector<Message> messages;   // chat form; empty when `prompt` is used
  std::string answer;              // reference answer (already extracted, e.g. GSM8K's N)
  nlohmann::json extra = nlohmann::json::object();  // every other field, by name
  Provenance source;

  bool is_chat() const { return !messages.empty(); }
};

// The JSONL form written by generators and `grpo data`: id, prompt or messages, answer, then
// the extra fields at top level, in that order (so `grpo reward` and the prompt_answer/chat readers see
// `numbers`, `target`, ... directly). Provenance is not written: a file is its own source.
nlohmann::ordered_json record_to_json(const Record& record);

// Writes one record per line; a file that cannot be written is a grpo::Error naming it.
void write_jsonl(const std::string& path, const std::vector<Record>& records);

}  // namespace grpo::datasets
