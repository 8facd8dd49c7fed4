// The JSONL files of completions that `grpo reward check` reads whole (--input audits, --cases
// validations): every non-blank line parsed into a Sample, with its line number and JSON record
// kept for fields the caller reads itself (the expected label). Also the one-line preview those
// commands print of a completion or a reason. `grpo reward` streams its input instead (files of
// any size) and does not use this.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "rewards/completion_records.h"

namespace grpo::cli {

struct CompletionLine {
  rewards::Sample sample;
  nlohmann::json record;
  int line = 0;  // 1-based line in the file
};

// Throws grpo::Error naming the file (and line) when it cannot be opened, a line is not a JSON
// record of `fields`, or it holds no record at all ("no <what>": "no records to audit").
std::vector<CompletionLine> read_completion_file(const std::string& path, const rewards::RecordFields& fields,
                                                 const std::string& what);

// `text` on one line (newlines become spaces) cut to `max_bytes` plus "...", still valid UTF-8
// (a character cut in half becomes U+FFFD).
std::string one_line_preview(const std::string& text, size_t max_bytes);

}  // namespace grpo::cli
