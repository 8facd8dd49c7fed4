// libFuzzer target for dataset reading (datasets/reader.h) through every built-in shape, from
// arbitrary JSONL or JSON-array bytes. Properties: with on_malformed=error a rejection is a
// grpo::Error naming the file and, for a JSONL record, its line; with skip, JSONL records plus
// skipped records equal the non-blank lines, records keep ascending line numbers inside the
// file, and the only error left is an empty dataset.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "datasets/reader.h"
#include "datasets/shapes.h"
#include "fuzz/fuzz_check.h"

using grpo::fuzz::check;
namespace ds = grpo::datasets;

namespace {

const std::string kName = "fuzz.jsonl";

bool names_the_line(const grpo::Error& e) {
  const std::string what = e.what();
  return e.where().line > 0 || what.find(kName + ":") != std::string::npos || what.find("line ") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const bool has_bom = text.rfind("\xef\xbb\xbf", 0) == 0;  // the reader skips a UTF-8 BOM
  const size_t first = text.find_first_not_of(" \t\r\n", has_bom ? 3 : 0);
  const bool array = first != std::string::npos && text[first] == '[';
  int lines = 0, non_blank = 0;
  for (size_t start = 0; start < text.size(); ++lines) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.find_first_not_of(" \t\r", start) < end) ++non_blank;
    start = end + 1;
  }
  for (const auto& shape_name : ds::shape_names()) {
    ds::ReadOptions options;
    options.shape = ds::shape_named(shape_name);
    options.on_malformed = ds::OnMalformed::kError;
    try {
      const auto result = ds::parse_dataset(text, kName, options);
      check(!result.records.empty() && result.skipped == 0, "a dataset read without skipping has records");
    } catch (const grpo::Error& e) {
      const std::string what = e.what();
      check(what.find(kName) != std::string::npos, "the error names the file: " + what);
      if (!array && what.find("empty dataset") == std::string::npos)
        check(names_the_line(e), "a JSONL record error names its line: " + what);
    }
    options.on_malformed = ds::OnMalformed::kSkip;
    try {
      const auto result = ds::parse_dataset(text, kName, options);
      int previous = 0;
      for (const auto& r : result.records) {
        check(r.source.file == kName, "records name their file");
        if (!array) {
          check(r.source.line > previous && r.source.line <= lines, "JSONL records have ascending lines in the file");
          previous = r.source.line;
        }
      }
      if (!array && !has_bom)
        check(result.records.size() + result.skipped == static_cast<size_t>(non_blank),
              "every non-blank JSONL line is a record or skipped");
    } catch (const grpo::Error& e) {
      const std::string what = e.what();
      check(what.find(kName) != std::string::npos, "the error names the file: " + what);
      if (!array) check(what.find("empty dataset") != std::string::npos, "skipping leaves only 'empty dataset': " + what);
    }
  }
  return 0;
}
