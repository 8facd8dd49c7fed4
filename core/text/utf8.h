// Making arbitrary bytes safe to store as text. A byte-level BPE model can emit token
// sequences whose bytes are not UTF-8 (a character cut in half, a lone byte token), and code
// that cuts text by bytes can split a character; every writer of model text (JSON, SQLite,
// HTML, logs) passes it through to_valid_utf8 first. Replacement follows Python's
// bytes.decode('utf-8', errors='replace'), which transformers' decode uses: one U+FFFD per
// maximal invalid subsequence (Unicode's "maximal subpart" practice). Lossy by design: callers
// that need the exact tokens keep their ids beside the text. Not a Unicode library (no
// normalization, no code point iteration).
#pragma once

#include <string>
#include <string_view>

namespace grpo {

// True when `bytes` is well-formed UTF-8: no overlong forms, no encoded surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or stray continuation bytes.
bool is_valid_utf8(std::string_view bytes);

// `bytes` with every maximal invalid subsequence replaced by U+FFFD ("\xEF\xBF\xBD");
// well-formed UTF-8 comes back unchanged. Equals Python's
// bytes.decode('utf-8', errors='replace').encode('utf-8').
std::string to_valid_utf8(std::string_view bytes);

}  // namespace grpo
