// The one way to parse JSON from a file we did not write (config.json, safetensors headers,
// tokenizer.json): nesting is bounded, because nlohmann's parser is iterative but copying,
// comparing and printing a value recurse once per level, so a file of a million '[' would
// overflow the stack later, far from the parser. Errors are grpo::Error naming the source and
// the byte offset. It does not bound the size of a document: callers bound that by the file.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace grpo {

// Deeper than any Hugging Face file (tokenizer.json nests ~6 levels), shallow enough that a
// recursive copy or dump of a value this deep stays far inside a thread's stack, sanitizers on.
constexpr int kMaxJsonDepth = 128;

// [first, last) as JSON. Throws grpo::Error "source: bad JSON at byte offset N: ..." for
// malformed text or a number beyond a double (N counts from the file's start: `first` lies at
// byte first_offset of it), and names kMaxJsonDepth when nesting exceeds it.
nlohmann::json parse_untrusted_json(const char* first, const char* last, const std::string& source,
                                    size_t first_offset = 0);
inline nlohmann::json parse_untrusted_json(const std::string& text, const std::string& source) {
  return parse_untrusted_json(text.data(), text.data() + text.size(), source);
}

// The same bound for readers that report positions their own way (datasets' line:column):
// nlohmann's exceptions pass through unchanged; nesting past kMaxJsonDepth throws a grpo::Error
// without a location, naming the limit.
nlohmann::json parse_json_depth_bounded(const char* first, const char* last);

}  // namespace grpo
