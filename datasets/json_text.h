// Low-level helpers for reading JSON text with exact positions: line trimming, BOM, parsing
// with errors that carry file:line:column, and the line on which each element of a top-level
// JSON array starts (nlohmann::json keeps no positions). Used by reader.cpp; nothing here
// knows about records or shapes.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace grpo::datasets {

// `text` without a leading UTF-8 byte-order mark.
std::string_view skip_bom(std::string_view text);
// A line without its trailing '\r' (CRLF files).
std::string_view trim_line(std::string_view line);
bool is_blank(std::string_view text);

// Parses one JSONL line; a syntax error is a grpo::Error at source:line:column with the
// parser's reason, e.g. "malformed JSON: syntax error while parsing object key - ...".
nlohmann::json parse_json_line(std::string_view line, const std::string& source, int line_number);

// Parses a whole document; a syntax error gets the line and column computed from its offset.
nlohmann::json parse_json_document(std::string_view text, const std::string& source);

// For a syntactically valid document whose top level is an array: the 1-based line on which
// each element starts, in order.
std::vector<int> top_level_element_lines(std::string_view text);

}  // namespace grpo::datasets
