// UTF-8 validation and U+FFFD replacement; see utf8.h.
#include "core/text/utf8.h"

namespace grpo {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Continuation bytes a lead byte expects after itself (0 for ASCII and for bytes that never
// start a sequence: continuation bytes, the overlong leads C0/C1 and F5..FF).
size_t continuation_count(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 1;
  if (lead >= 0xE0 && lead <= 0xEF) return 2;
  if (lead >= 0xF0 && lead <= 0xF4) return 3;
  return 0;
}

// Whether `byte` may follow `lead` as continuation number `k` (1-based). The first
// continuation's narrower ranges are what exclude overlong forms (E0, F0), encoded surrogates
// (ED) and code points above U+10FFFF (F4).
bool continues(unsigned char lead, size_t k, unsigned char byte) {
  unsigned char lo = 0x80, hi = 0xBF;
  if (k == 1) {
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  }
  return byte >= lo && byte <= hi;
}

// Bytes of the sequence at bytes[i] that form a valid prefix (its maximal subpart), and
// whether that prefix is a whole character. A byte that starts nothing is a subpart of one.
struct Span {
  size_t length;
  bool complete;
};

Span span_at(std::string_view bytes, size_t i) {
  const auto lead = static_cast<unsigned char>(bytes[i]);
  if (lead < 0x80) return {1, true};
  const size_t need = continuation_count(lead);
  if (need == 0) return {1, false};
  size_t k = 1;
  while (k <= need && i + k < bytes.size() && continues(lead, k, static_cast<unsigned char>(bytes[i + k]))) ++k;
  return {k, k == need + 1};
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const Span s = span_at(bytes, i);
    if (!s.complete) return false;
    i += s.length;
  }
  return true;
}

std::string to_valid_utf8(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 16);
  for (size_t i = 0; i < bytes.size();) {
    const Span s = span_at(bytes, i);
    if (s.complete) out.append(bytes.substr(i, s.length));
    else out.append(kReplacement);
    i += s.length;
  }
  return out;
}

}  // namespace grpo
