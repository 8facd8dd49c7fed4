// JSONL / JSON-array dataset reading; see reader.h.
#include "datasets/reader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "datasets/json_text.h"

namespace grpo::datasets {

namespace {

// Collects records, or skipped lines when the options allow skipping.
class Collector {
 public:
  Collector(const ReadOptions& options, ReadResult& result) : options_(options), result_(result) {}

  template <class MakeRecord>
  void add(int line, MakeRecord&& make) {
    try {
      result_.records.push_back(make());
    } catch (const Error& e) {
      if (options_.on_malformed == OnMalformed::kError) throw;
      ++result_.skipped;
      if (result_.first_skipped.size() < ReadResult::kMaxSkippedKept) {
        result_.first_skipped.push_back({line, e.message()});
      }
    }
  }

 private:
  const ReadOptions& options_;
  ReadResult& result_;
};

void read_jsonl(std::string_view text, const std::string& source, const ReadOptions& options,
                ReadResult& result) {
  Collector collector(options, result);
  size_t start = 0;
  for (int line = 1; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view content = trim_line(text.substr(start, end - start));
    start = end + 1;
    if (is_blank(content)) continue;
    collector.add(line, [&] {
      const nlohmann::json value = parse_json_line(content, source, line);
      return record_from_json(value, options.shape, Provenance{source, line});
    });
  }
}

void read_json_array(std::string_view text, const std::string& source, const ReadOptions& options,
                     ReadResult& result) {
  const nlohmann::json document = parse_json_document(text, source);
  const std::vector<int> lines = top_level_element_lines(text);
  Collector collector(options, result);
  for (size_t i = 0; i < document.size(); ++i) {
    const int line = i < lines.size() ? lines[i] : 0;
    collector.add(line, [&] { return record_from_json(document[i], options.shape, Provenance{source, line}); });
  }
}

[[noreturn]] void fail_empty(const std::string& source, const ReadResult& result) {
  if (result.skipped == 0) throw Error(source + ": empty dataset: no records");
  const auto& first = result.first_skipped.front();
  throw Error(source + ": empty dataset: all " + std::to_string(result.skipped) +
              " records were skipped as malformed (first, line " + std::to_string(first.line) + ": " +
              first.reason + ")");
}

}  // namespace

ReadResult parse_dataset(const std::string& text, const std::string& source_name, const ReadOptions& options) {
  ReadResult result;
  const std::string_view body = skip_bom(text);
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && body[first] == '[') {
    read_json_array(body, source_name, options, result);
  } else {
    read_jsonl(body, source_name, options, result);
  }
  if (result.records.empty()) fail_empty(source_name, result);
  return result;
}

ReadResult read_dataset(const std::string& path, const ReadOptions& options) {
  if (std::filesystem::is_directory(path)) throw Error(path + ": is a directory, not a dataset file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot open dataset file");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw Error(path + ": read failed");
  return parse_dataset(text.str(), path, options);
}

}  // namespace grpo::datasets
