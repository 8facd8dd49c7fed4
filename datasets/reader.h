// Reading datasets from JSONL (one JSON object per line) or a JSON array file, through a
// shape (shapes.h). The format is detected from the first non-blank character: '[' means a
// JSON array, anything else JSONL. Blank lines in JSONL are ignored. Errors carry the file,
// the 1-based line and, for JSON syntax errors, the column (byte within the line).
// A problem in one record (bad JSON, a missing field) is an error, or with kSkip it is
// skipped and counted; a JSON array file with a syntax error cannot be read in part and is
// always an error. A dataset with no records is always an error. Records are held in memory.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "datasets/record.h"
#include "datasets/shapes.h"

namespace grpo::datasets {

enum class OnMalformed { kError, kSkip };

struct ReadOptions {
  Shape shape = shape_named("prompt_answer");
  OnMalformed on_malformed = OnMalformed::kError;
};

struct SkippedRecord {
  int line = 0;
  std::string reason;
};

struct ReadResult {
  std::vector<Record> records;
  size_t skipped = 0;                       // records skipped as malformed (kSkip only)
  std::vector<SkippedRecord> first_skipped; // the first kMaxSkippedKept of them, for reports
  static constexpr size_t kMaxSkippedKept = 10;
};

// Reads `path`; a missing or unreadable file is a grpo::Error naming it.
ReadResult read_dataset(const std::string& path, const ReadOptions& options);

// Reads dataset text already in memory; `source_name` labels errors and provenance.
ReadResult parse_dataset(const std::string& text, const std::string& source_name, const ReadOptions& options);

}  // namespace grpo::datasets
