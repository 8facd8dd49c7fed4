// JSON text helpers with positions; see json_text.h.
#include "datasets/json_text.h"

#include <algorithm>

#include "core/error.h"
#include "core/text/json_parse.h"

namespace grpo::datasets {

namespace {

// nlohmann's what() reads "[json.exception.parse_error.101] parse error at line 1, column 5:
// <reason>"; the position is ours to report, so keep only the reason.
std::string parse_error_reason(const nlohmann::json::parse_error& e) {
  const std::string what = e.what();
  const auto column = what.find("column ");
  const auto colon = what.find(": ", column == std::string::npos ? 0 : column);
  if (colon == std::string::npos) return what;
  return what.substr(colon + 2);
}

// What nlohmann says about a value it cannot hold (a number overflowing a double), without its
// "[json.exception.out_of_range.406] " prefix.
std::string exception_reason(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const auto end = what.find("] ");
  return end == std::string::npos ? what : what.substr(end + 2);
}

// 1-based line and column (in bytes) of `offset`, an index into `text`.
SourceLocation location_of(std::string_view text, size_t offset, const std::string& source) {
  SourceLocation where{source, 1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++where.line;
      where.column = 1;
    } else {
      ++where.column;
    }
  }
  return where;
}

}  // namespace

std::string_view skip_bom(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

std::string_view trim_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool is_blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

nlohmann::json parse_json_line(std::string_view line, const std::string& source, int line_number) {
  try {
    return parse_json_depth_bounded(line.data(), line.data() + line.size());
  } catch (const Error& e) {
    throw Error(SourceLocation{source, line_number, 0}, e.message());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is the 1-based index of the last byte read: the column within this line.
    const int column = static_cast<int>(std::min<size_t>(e.byte, line.size() + 1));
    throw Error(SourceLocation{source, line_number, column}, "malformed JSON: " + parse_error_reason(e));
  } catch (const nlohmann::json::exception& e) {
    throw Error(SourceLocation{source, line_number, 0}, "malformed JSON: " + exception_reason(e));
  }
}

nlohmann::json parse_json_document(std::string_view text, const std::string& source) {
  try {
    return parse_json_depth_bounded(text.data(), text.data() + text.size());
  } catch (const Error& e) {
    throw Error(SourceLocation{source, 0, 0}, e.message());
  } catch (const nlohmann::json::parse_error& e) {
    const size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    throw Error(location_of(text, offset, source), "malformed JSON: " + parse_error_reason(e));
  } catch (const nlohmann::json::exception& e) {
    throw Error(SourceLocation{source, 0, 0}, "malformed JSON: " + exception_reason(e));
  }
}

std::vector<int> top_level_element_lines(std::string_view text) {
  std::vector<int> lines;
  int line = 1;
  int depth = 0;
  bool in_string = false;
  bool expecting_element = false;  // just after the top-level '[' or a top-level ','
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') {
        ++i;  // an escaped character never ends the string (and is never a raw newline)
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (expecting_element && c != ']') lines.push_back(line);
    expecting_element = false;
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth == 1) expecting_element = true;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expecting_element = true;
    }
  }
  return lines;
}

}  // namespace grpo::datasets
