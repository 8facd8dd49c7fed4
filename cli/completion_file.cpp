// Reading a JSONL completion file whole, and one-line previews; see completion_file.h.
#include "cli/completion_file.h"

#include <fstream>

#include "core/error.h"
#include "core/text/utf8.h"
#include "datasets/json_text.h"

namespace grpo::cli {

std::vector<CompletionLine> read_completion_file(const std::string& path, const rewards::RecordFields& fields,
                                                 const std::string& what) {
  std::ifstream in(path);
  if (!in) throw Error(SourceLocation{path, 0, 0}, "cannot open the file");
  std::vector<CompletionLine> out;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    CompletionLine entry;
    entry.record = datasets::parse_json_line(text, path, line);
    entry.sample = rewards::sample_from_record(entry.record, fields, SourceLocation{path, line, 0});
    entry.line = line;
    out.push_back(std::move(entry));
  }
  if (out.empty()) throw Error(SourceLocation{path, 0, 0}, "no " + what);
  return out;
}

std::string one_line_preview(const std::string& text, size_t max_bytes) {
  std::string flat;
  for (char c : text) flat += c == '\n' ? ' ' : c;
  // Cut on bytes, then repair: a cut inside a character becomes U+FFFD rather than invalid UTF-8.
  return flat.size() > max_bytes ? to_valid_utf8(flat.substr(0, max_bytes)) + "..." : flat;
}

}  // namespace grpo::cli
