// tokenizer.json pre-tokenizers: Split (every behavior, invert), ByteLevel (with or without
// its GPT-2 regex, add_prefix_space), Digits, Metaspace, Whitespace, WhitespaceSplit and
// Sequence. Behaviours follow Hugging Face tokenizers' normalizer.rs `split`: the pattern
// yields matched and unmatched spans covering the piece, the behavior merges or drops them,
// empty pieces are dropped. Bert/Punctuation/UnicodeScripts/CharDelimiterSplit are rejected.
#include "model/tokenizer/components.h"
#include "model/tokenizer/regex.h"
#include "model/tokenizer/unicode.h"

namespace grpo::tok {
namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Span {
  size_t start, end;
  bool matched;
};

// Matched and unmatched spans covering [0, size), in order.
std::vector<Span> cover(const std::vector<Match>& matches, size_t size, bool invert) {
  std::vector<Span> spans;
  size_t prev = 0;
  for (const auto& m : matches) {
    if (m.start != prev) spans.push_back({prev, m.start, invert});
    spans.push_back({m.start, m.end, !invert});
    prev = m.end;
  }
  if (prev != size || spans.empty()) spans.push_back({prev, size, invert});
  return spans;
}

// Applies the behavior; returns the kept spans.
std::vector<Span> apply_behavior(const std::vector<Span>& spans, Behavior behavior) {
  std::vector<Span> out;
  bool previous_match = false;
  switch (behavior) {
    case Behavior::Removed:
      for (const auto& s : spans)
        if (!s.matched) out.push_back(s);
      return out;
    case Behavior::Isolated:
      return spans;
    case Behavior::Contiguous:
      for (const auto& s : spans) {
        if (s.matched == previous_match && !out.empty()) out.back().end = s.end;
        else out.push_back(s);
        previous_match = s.matched;
      }
      return out;
    case Behavior::MergedWithPrevious:
      for (const auto& s : spans) {
        if (s.matched && !previous_match && !out.empty()) out.back().end = s.end;
        else out.push_back(s);
        previous_match = s.matched;
      }
      return out;
    case Behavior::MergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->matched && !previous_match && !out.empty()) out.back().start = it->start;
        else out.push_back(*it);
        previous_match = it->matched;
      }
      return std::vector<Span>(out.rbegin(), out.rend());
  }
  return out;
}

void split_pieces(std::vector<Piece>& pieces, const Regex& regex, Behavior behavior, bool invert) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  thread_local std::vector<Match> matches;
  for (auto& piece : pieces) {
    regex.find_all(piece.text, matches);
    for (const auto& s : apply_behavior(cover(matches, piece.text.size(), invert), behavior))
      if (s.end > s.start) out.push_back({piece.text.substr(s.start, s.end - s.start), piece.at_start && s.start == 0});
  }
  pieces = std::move(out);
}

Behavior parse_behavior(const Json& j, const Fields& f, const std::string& path) {
  const std::string name = f.string(j, "behavior", path);
  if (name == "Removed") return Behavior::Removed;
  if (name == "Isolated") return Behavior::Isolated;
  if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::MergedWithNext;
  if (name == "Contiguous") return Behavior::Contiguous;
  f.fail(Fields::join(path, "behavior"), "unknown behavior '" + name +
                                             "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

class Split : public PreTokenizer {
 public:
  Split(const std::string& pattern, bool literal, Behavior behavior, bool invert, const std::string& field)
      : regex_(pattern, literal, field), behavior_(behavior), invert_(invert) {}
  void split(std::vector<Piece>& pieces) const override { split_pieces(pieces, regex_, behavior_, invert_); }

 private:
  Regex regex_;
  Behavior behavior_;
  bool invert_;
};

const char* const kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex, const std::string& field)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex), regex_(kGpt2Pattern, false, field) {}
  void split(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_)
      for (auto& p : pieces)
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, 1, ' ');
    if (use_regex_) split_pieces(pieces, regex_, Behavior::Isolated, false);
    const auto& table = byte_to_utf8();
    for (auto& p : pieces) {
      std::string mapped;
      mapped.reserve(p.text.size() * 2);
      for (unsigned char c : p.text) mapped += table[c];
      p.text = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_, use_regex_;
  Regex regex_;
};

class Metaspace : public PreTokenizer {
 public:
  enum class Prepend { Always, First, Never };
  Metaspace(std::string replacement, Prepend prepend, bool split, const std::string& field)
      : replacement_(std::move(replacement)), prepend_(prepend), split_(split), regex_(replacement_, true, field) {}
  void split(std::vector<Piece>& pieces) const override {
    for (auto& p : pieces) {
      std::string text;
      for (char c : p.text) {
        if (c == ' ') text += replacement_;
        else text += c;
      }
      const bool starts = text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (prepend_ == Prepend::Always || (prepend_ == Prepend::First && p.at_start)))
        text.insert(0, replacement_);
      p.text = std::move(text);
    }
    if (split_) split_pieces(pieces, regex_, Behavior::MergedWithNext, false);
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  bool split_;
  Regex regex_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void split(std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->split(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

std::unique_ptr<PreTokenizer> make_metaspace(const Json& j, const Fields& f, const std::string& path) {
  const std::string replacement = f.string(j, "replacement", path);
  size_t i = 0;
  next_code_point(replacement, i);
  if (replacement.empty() || i != replacement.size())
    f.fail(Fields::join(path, "replacement"), "expected exactly one character");
  // Older files carry add_prefix_space instead of prepend_scheme.
  auto prepend = f.boolean_or(j, "add_prefix_space", path, true) ? Metaspace::Prepend::Always : Metaspace::Prepend::Never;
  if (j.contains("prepend_scheme")) {
    const std::string scheme = f.string(j, "prepend_scheme", path);
    if (scheme == "always") prepend = Metaspace::Prepend::Always;
    else if (scheme == "first") prepend = Metaspace::Prepend::First;
    else if (scheme == "never") prepend = Metaspace::Prepend::Never;
    else f.fail(Fields::join(path, "prepend_scheme"), "expected always, first or never, got '" + scheme + "'");
  }
  return std::make_unique<Metaspace>(replacement, prepend, f.boolean_or(j, "split", path, true), Fields::join(path, "replacement"));
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j, const Fields& f, const std::string& path) {
  if (j.is_null()) return nullptr;
  const std::string type = section_type(j, f, path);
  if (type == "Split") {
    const auto [pattern, literal] = read_pattern(j, f, path);
    return std::make_unique<Split>(pattern, literal, parse_behavior(j, f, path), f.boolean_or(j, "invert", path, false),
                                   Fields::join(path, "pattern"));
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevel>(f.boolean_or(j, "add_prefix_space", path, true),
                                       f.boolean_or(j, "use_regex", path, true), path);
  if (type == "Digits") {
    const auto behavior = f.boolean_or(j, "individual_digits", path, false) ? Behavior::Isolated : Behavior::Contiguous;
    return std::make_unique<Split>("\\p{N}", false, behavior, false, path);
  }
  if (type == "Metaspace") return make_metaspace(j, f, path);
  if (type == "Whitespace") return std::make_unique<Split>("\\w+|[^\\w\\s]+", false, Behavior::Removed, true, path);
  if (type == "WhitespaceSplit") return std::make_unique<Split>("\\s+", false, Behavior::Removed, false, path);
  if (type == "Sequence") {
    const Json& list = f.array(j, "pretokenizers", path);
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto part = make_pre_tokenizer(list[i], f, Fields::index(Fields::join(path, "pretokenizers"), i));
      if (part) parts.push_back(std::move(part));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  f.fail(Fields::join(path, "type"), "unsupported pre-tokenizer '" + type +
                                         "' (supported: Split, ByteLevel, Digits, Metaspace, Whitespace, "
                                         "WhitespaceSplit, Sequence)");
}

}  // namespace grpo::tok
