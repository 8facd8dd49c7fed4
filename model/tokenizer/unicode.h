// UTF-8 and Unicode helpers the tokenizer needs: code point iteration, the length of the
// longest complete UTF-8 prefix (for streaming), Unicode normalization forms (through
// utf8proc), and GPT-2's byte <-> printable-character table used by the ByteLevel
// pre-tokenizer and decoder. It is not a general Unicode library: no case mapping, no
// segmentation, and character classes are left to PCRE2 (see regex.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace grpo::tok {

// Decodes the code point starting at s[i] and advances i. Invalid bytes decode as U+FFFD
// and advance by one, the way a lossy decoder does.
uint32_t next_code_point(std::string_view s, size_t& i);
void append_utf8(std::string& out, uint32_t cp);
// Byte length of the UTF-8 sequence that starts with `lead` (1 for invalid lead bytes).
size_t utf8_sequence_length(unsigned char lead);
// Validity and U+FFFD replacement of whole strings: core/text/utf8.h (grpo::is_valid_utf8,
// grpo::to_valid_utf8), the same maximal-subpart rule as next_code_point.

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };
// Throws grpo::Error when `s` is not valid UTF-8.
std::string normalize(std::string_view s, NormalForm form);

// Rust's char::is_whitespace (the Unicode White_Space property).
bool is_whitespace(uint32_t cp);

// GPT-2 bytes_to_unicode: byte b is shown as code point byte_to_char()[b].
const std::array<uint32_t, 256>& byte_to_char();
// Inverse of byte_to_char for code points below 0x144; -1 where no byte maps there.
int char_to_byte(uint32_t cp);
// The UTF-8 encoding of byte_to_char()[b], precomputed.
const std::array<std::string, 256>& byte_to_utf8();

}  // namespace grpo::tok
