// PCRE2 wrapper; see regex.h. One match-data block per thread (it holds only the overall
// match), so find_all does not allocate per call.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/tokenizer/regex.h"

#include <pcre2.h>

#include "core/error.h"
#include "model/tokenizer/unicode.h"

namespace grpo::tok {

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

namespace {

pcre2_match_data* thread_match_data() {
  struct Holder {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~Holder() { pcre2_match_data_free(data); }
  };
  thread_local Holder holder;
  return holder.data;
}

}  // namespace

Regex::Regex(const std::string& pattern, bool literal, const std::string& field)
    : impl_(std::make_unique<Impl>()), pattern_(pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // PCRE2 rejects UCP together with LITERAL; a literal needs no character classes anyway.
  const uint32_t options = PCRE2_UTF | PCRE2_NO_UTF_CHECK | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                              &error, &offset, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw Error("field '" + field + "': the regex does not compile at offset " +
                std::to_string(offset) + ": " + reinterpret_cast<const char*>(message) +
                " (pattern: " + pattern + ")");
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(impl_->code); }

void Regex::find_all(std::string_view text, std::vector<Match>& out) const {
  out.clear();
  pcre2_match_data* data = thread_match_data();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  size_t last_end = static_cast<size_t>(-1);
  while (pos <= text.size()) {
    // Text comes from std::string pieces that the tokenizer already made valid UTF-8.
    const int rc = impl_->jit
        ? pcre2_jit_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, data, nullptr)
        : pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc < 0) {
      if (rc == PCRE2_ERROR_NOMATCH) return;
      throw Error("regex match failed (PCRE2 error " + std::to_string(rc) + ") for pattern " + pattern_);
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    const size_t start = ov[0], end = ov[1];
    if (start == end) {
      if (start != last_end) out.push_back({start, end});
      if (end >= text.size()) return;
      pos = end + utf8_sequence_length(static_cast<unsigned char>(text[end]));
    } else {
      out.push_back({start, end});
      pos = end;
    }
    last_end = end;
  }
}

}  // namespace grpo::tok
