// tokenizer.json normalizers: NFC/NFD/NFKC/NFKD (utf8proc), Lowercase, Strip, Prepend,
// Replace (string or regex) and Sequence. Others (BertNormalizer, Precompiled
// SentencePiece charsmaps, StripAccents, Nmt) are rejected with the list of supported types.
#include <utf8proc.h>

#include "model/tokenizer/components.h"
#include "model/tokenizer/regex.h"
#include "model/tokenizer/unicode.h"

namespace grpo::tok {
namespace {

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(NormalForm form) : form_(form) {}
  void normalize(std::string& text) const override { text = tok::normalize(text, form_); }

 private:
  NormalForm form_;
};

// Rust's char::to_lowercase per character: the simple mapping, except U+0130 which
// lowercases to two code points.
class Lowercase : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      const uint32_t cp = next_code_point(text, i);
      if (cp == 0x130) {
        out += "i\xCC\x87";
        continue;
      }
      append_utf8(out, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
    text = std::move(out);
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t begin = 0, end = text.size();
    while (left_ && begin < end) {
      size_t i = begin;
      if (!is_whitespace(next_code_point(text, i))) break;
      begin = i;
    }
    while (right_ && end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      size_t i = start;
      if (!is_whitespace(next_code_point(text, i))) break;
      end = start;
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class Replace : public Normalizer {
 public:
  Replace(const std::string& pattern, bool literal, std::string content, const std::string& field)
      : regex_(pattern, literal, field), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    thread_local std::vector<Match> matches;
    regex_.find_all(text, matches);
    if (matches.empty()) return;
    std::string out;
    size_t prev = 0;
    for (const auto& m : matches) {
      out.append(text, prev, m.start - prev);
      out += content_;
      prev = m.end;
    }
    out.append(text, prev, std::string::npos);
    text = std::move(out);
  }

 private:
  Regex regex_;
  std::string content_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& text) const override {
    for (const auto& p : parts_) p->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::string section_type(const Json& j, const Fields& f, const std::string& path) {
  if (!j.is_object()) f.fail(path, "expected an object with a \"type\", got " + std::string(j.type_name()));
  return f.string(j, "type", path);
}

// A Split/Replace "pattern": {"String": "..."} or {"Regex": "..."}.
std::pair<std::string, bool> read_pattern(const Json& j, const Fields& f, const std::string& path) {
  const Json& p = f.object(j, "pattern", path);
  const std::string field = Fields::join(path, "pattern");
  if (p.contains("String")) return {f.string(p, "String", field), true};
  if (p.contains("Regex")) return {f.string(p, "Regex", field), false};
  f.fail(field, "expected {\"String\": ...} or {\"Regex\": ...}");
}

std::unique_ptr<Normalizer> make_normalizer(const Json& j, const Fields& f, const std::string& path) {
  if (j.is_null()) return nullptr;
  const std::string type = section_type(j, f, path);
  if (type == "NFC") return std::make_unique<UnicodeForm>(NormalForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeForm>(NormalForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(NormalForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(NormalForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Strip")
    return std::make_unique<Strip>(f.boolean_or(j, "strip_left", path, true), f.boolean_or(j, "strip_right", path, true));
  if (type == "Prepend") return std::make_unique<Prepend>(f.string(j, "prepend", path));
  if (type == "Replace") {
    const auto [pattern, literal] = read_pattern(j, f, path);
    return std::make_unique<Replace>(pattern, literal, f.string(j, "content", path), Fields::join(path, "pattern"));
  }
  if (type == "Sequence") {
    const Json& list = f.array(j, "normalizers", path);
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto part = make_normalizer(list[i], f, Fields::index(Fields::join(path, "normalizers"), i));
      if (part) parts.push_back(std::move(part));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  f.fail(Fields::join(path, "type"), "unsupported normalizer '" + type +
                                         "' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, Sequence)");
}

}  // namespace grpo::tok
