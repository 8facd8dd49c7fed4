// tokenizer.json decoders: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip and
// Sequence, each a decode_chain over token strings as in Hugging Face tokenizers.
// WordPiece, BPEDecoder and CTC decoders are rejected with the supported list.
#include "model/tokenizer/components.h"

#include "core/text/utf8.h"
#include "model/tokenizer/regex.h"
#include "model/tokenizer/unicode.h"

namespace grpo::tok {
namespace {

// Maps each character back to its byte; a token with a character outside the table keeps
// its own UTF-8 bytes. The joined bytes are decoded lossily (invalid -> U+FFFD).
class ByteLevelDecoder : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      const size_t mark = bytes.size();
      bool mapped = true;
      for (size_t i = 0; i < t.size() && mapped;) {
        const int b = char_to_byte(next_code_point(t, i));
        if (b < 0) mapped = false;
        else bytes += static_cast<char>(b);
      }
      if (!mapped) bytes.replace(mark, std::string::npos, t);
    }
    tokens.assign(1, grpo::to_valid_utf8(bytes));
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (size_t k = 0; k < tokens.size(); ++k) {
      std::string out;
      const std::string& t = tokens[k];
      for (size_t i = 0; i < t.size();) {
        if (t.compare(i, replacement_.size(), replacement_) == 0) {
          if (!(k == 0 && strip_first_)) out += ' ';
          i += replacement_.size();
        } else {
          out += t[i++];
        }
      }
      tokens[k] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(const std::string& pattern, bool literal, std::string content, const std::string& field)
      : regex_(pattern, literal, field), content_(std::move(content)) {}
  void decode(std::vector<std::string>& tokens) const override {
    thread_local std::vector<Match> matches;
    for (auto& t : tokens) {
      regex_.find_all(t, matches);
      if (matches.empty()) continue;
      std::string out;
      size_t prev = 0;
      for (const auto& m : matches) {
        out.append(t, prev, m.start - prev);
        out += content_;
        prev = m.end;
      }
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  Regex regex_;
  std::string content_;
};

// Runs of "<0xNN>" tokens become the text of their bytes, or one U+FFFD per byte when the
// run is not valid UTF-8.
class ByteFallbackDecoder : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&] {
      if (pending_count == 0) return;
      if (grpo::is_valid_utf8(pending)) out.push_back(pending);
      else
        for (size_t i = 0; i < pending_count; ++i) out.push_back("\xEF\xBF\xBD");
      pending.clear();
      pending_count = 0;
    };
    for (auto& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') byte = parse_hex_byte(t[3], t[4]);
      if (byte >= 0) {
        pending += static_cast<char>(byte);
        ++pending_count;
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static int parse_hex_byte(char hi, char lo) {
    const int h = hex_digit(hi), l = hex_digit(lo);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, all);
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character per token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode(std::vector<std::string>& tokens) const override {
    const size_t n = content_.size();
    for (auto& t : tokens) {
      size_t begin = 0, end = t.size();
      for (size_t k = 0; k < start_ && end - begin >= n && t.compare(begin, n, content_) == 0; ++k) begin += n;
      for (size_t k = 0; k < stop_ && end - begin >= n && t.compare(end - n, n, content_) == 0; ++k) end -= n;
      t = t.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

std::unique_ptr<Decoder> make_metaspace_decoder(const Json& j, const Fields& f, const std::string& path) {
  bool strip_first = f.boolean_or(j, "add_prefix_space", path, true);
  if (j.contains("prepend_scheme")) strip_first = f.string(j, "prepend_scheme", path) != "never";
  return std::make_unique<MetaspaceDecoder>(f.string(j, "replacement", path), strip_first);
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& j, const Fields& f, const std::string& path) {
  if (j.is_null()) return nullptr;
  const std::string type = section_type(j, f, path);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") return make_metaspace_decoder(j, f, path);
  if (type == "Replace") {
    const auto [pattern, literal] = read_pattern(j, f, path);
    return std::make_unique<ReplaceDecoder>(pattern, literal, f.string(j, "content", path), Fields::join(path, "pattern"));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const long long start = f.integer(j, "start", path), stop = f.integer(j, "stop", path);
    if (start < 0 || stop < 0) f.fail(Fields::join(path, "start"), "expected non-negative counts");
    return std::make_unique<StripDecoder>(f.string(j, "content", path), static_cast<size_t>(start), static_cast<size_t>(stop));
  }
  if (type == "Sequence") {
    const Json& list = f.array(j, "decoders", path);
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto part = make_decoder(list[i], f, Fields::index(Fields::join(path, "decoders"), i));
      if (part) parts.push_back(std::move(part));
    }
    return std::make_unique<SequenceDecoder>(std::move(parts));
  }
  f.fail(Fields::join(path, "type"), "unsupported decoder '" + type +
                                         "' (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)");
}

}  // namespace grpo::tok
