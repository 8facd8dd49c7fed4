// libFuzzer target for dataset reading (datasets/reader.h) through every built-in shape, from
// arbitrary JSONL or JSON-array bytes. Input: one selector byte (fuzz_input.h) picking the shape
// and the on_malformed mode (variant = 2 x shape index + mode, error first, shapes in
// shape_names() order), then the dataset text. Properties: with on_malformed=error a rejection
// is a grpo::Error naming the file and, for a JSONL record, its line; with skip, JSONL records
// plus skipped records equal the non-blank lines, records keep ascending line numbers inside
// the file, and the only error left is an empty dataset.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/reader.h"
#include "datasets/shapes.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

using grpo::fuzz::check;
namespace ds = grpo::datasets;

namespace {

const std::string kName = "fuzz.jsonl";

// Looked up once: shape_named() builds a Shape (strings) on every call.
const std::vector<ds::Shape>& shapes() {
  static const std::vector<ds::Shape> all = [] {
    std::vector<ds::Shape> list;
    for (const auto& name : ds::shape_names()) list.push_back(ds::shape_named(name));
    return list;
  }();
  return all;
}

bool names_the_line(const grpo::Error& e) {
  const std::string what = e.what();
  return e.where().line > 0 || what.find(kName + ":") != std::string::npos || what.find("line ") != std::string::npos;
}

bool has_bom(const std::string& text) { return text.rfind("\xef\xbb\xbf", 0) == 0; }  // the reader skips it

bool is_json_array(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n", has_bom(text) ? 3 : 0);
  return first != std::string::npos && text[first] == '[';
}

void read_rejecting_malformed(const std::string& text, const ds::Shape& shape) {
  ds::ReadOptions options;
  options.shape = shape;
  options.on_malformed = ds::OnMalformed::kError;
  try {
    const auto result = ds::parse_dataset(text, kName, options);
    check(!result.records.empty() && result.skipped == 0, "a dataset read without skipping has records");
  } catch (const grpo::Error& e) {
    const std::string what = e.what();
    check(what.find(kName) != std::string::npos, [&] { return "the error names the file: " + what; });
    if (!is_json_array(text) && what.find("empty dataset") == std::string::npos)
      check(names_the_line(e), [&] { return "a JSONL record error names its line: " + what; });
  }
}

void read_skipping_malformed(const std::string& text, const ds::Shape& shape) {
  const bool array = is_json_array(text);
  int lines = 0, non_blank = 0;
  for (size_t start = 0; start < text.size(); ++lines) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.find_first_not_of(" \t\r", start) < end) ++non_blank;
    start = end + 1;
  }
  ds::ReadOptions options;
  options.shape = shape;
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
    if (!array && !has_bom(text))
      check(result.records.size() + result.skipped == static_cast<size_t>(non_blank),
            "every non-blank JSONL line is a record or skipped");
  } catch (const grpo::Error& e) {
    const std::string what = e.what();
    check(what.find(kName) != std::string::npos, [&] { return "the error names the file: " + what; });
    if (!array) check(what.find("empty dataset") != std::string::npos,
                      [&] { return "skipping leaves only 'empty dataset': " + what; });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = grpo::fuzz::select_variant(data, size, 2 * shapes().size());
  const std::string text(input.rest);
  const ds::Shape& shape = shapes()[input.variant / 2];
  if (input.variant % 2 == 0) {
    read_rejecting_malformed(text, shape);
  } else {
    read_skipping_malformed(text, shape);
  }
  return 0;
}
