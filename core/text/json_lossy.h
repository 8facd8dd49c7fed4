// The one way to serialize JSON that may hold model text or text cut from it (completions,
// prompts, reward reasons, records): strings that are not valid UTF-8 are written with U+FFFD
// in place of each maximal invalid subsequence, exactly as to_valid_utf8 (utf8.h) and Python's
// errors='replace' do, instead of nlohmann's default of throwing type_error.316 mid-run. Keys
// are treated the same way. The output is always valid UTF-8 and parses back with
// nlohmann::json::parse. Not for files whose bytes must round-trip exactly (write ids beside
// the text for that).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace grpo {

// `value` as JSON text; indent < 0 writes one line (JSONL), >= 0 pretty-prints.
std::string json_dump_lossy(const nlohmann::json& value, int indent = -1);
std::string json_dump_lossy(const nlohmann::ordered_json& value, int indent = -1);

}  // namespace grpo
