// Tokenizer: file loading, the encode pipeline, decoding and the streaming decoder; see
// tokenizer.h. Loading of the individual sections lives in tokenizer_loader.cpp.
#include "model/tokenizer/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "core/text/json_parse.h"
#include "core/text/utf8.h"
#include "model/tokenizer/tokenizer_impl.h"
#include "model/tokenizer/unicode.h"

namespace grpo {
namespace {

tok::Json parse_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(SourceLocation{path, 0, 0}, "cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_untrusted_json(buffer.str(), path);
}

// Text between added tokens: normalize, match normalized added tokens, pre-tokenize, BPE.
void encode_text(const Tokenizer::Impl& t, std::string text, bool at_start, std::vector<int>& ids) {
  if (t.normalizer) t.normalizer->normalize(text);
  std::vector<tok::Piece> pieces;
  for (const auto& seg : t.added.split(text, true)) {
    if (seg.token_id >= 0) {
      ids.push_back(seg.token_id);
      continue;
    }
    pieces.clear();
    pieces.push_back({text.substr(seg.start, seg.end - seg.start), at_start && seg.start == 0});
    if (t.pre_tokenizer) t.pre_tokenizer->split(pieces);
    for (const auto& p : pieces) t.model->tokenize(p.text, ids);
  }
}

}  // namespace

Tokenizer Tokenizer::from_json(const std::string& json_text, const std::string& source) {
  return Tokenizer(tok::load_tokenizer_json(parse_untrusted_json(json_text, source), source));
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) return Tokenizer(tok::load_tokenizer_json(parse_json_file(path), path));
  const std::string json_path = (fs::path(path) / "tokenizer.json").string();
  if (!fs::exists(json_path)) throw Error(SourceLocation{path, 0, 0}, "directory has no tokenizer.json");
  auto impl = tok::load_tokenizer_json(parse_json_file(json_path), json_path);
  impl->source = path;
  const std::string config_path = (fs::path(path) / "tokenizer_config.json").string();
  if (fs::exists(config_path)) tok::apply_tokenizer_config(parse_json_file(config_path), config_path, *impl);
  return Tokenizer(std::move(impl));
}

std::vector<int> Tokenizer::encode(std::string_view input, bool add_special_tokens) const {
  const Impl& t = *impl_;
  std::string repaired;
  if (!grpo::is_valid_utf8(input)) {
    repaired = grpo::to_valid_utf8(input);
    input = repaired;
  }
  std::vector<int> ids;
  ids.reserve(input.size() / 3 + 4);
  for (const auto& seg : t.added.split(input, false)) {
    if (seg.token_id >= 0) ids.push_back(seg.token_id);
    else encode_text(t, std::string(input.substr(seg.start, seg.end - seg.start)), seg.start == 0, ids);
  }
  if (add_special_tokens && t.post_processor) t.post_processor->process(ids);
  return ids;
}

std::vector<std::vector<int>> Tokenizer::encode_batch(const std::vector<std::string>& texts, bool add_special_tokens,
                                                      ThreadPool* pool) const {
  std::vector<std::vector<int>> out(texts.size());
  ThreadPool& p = pool ? *pool : ThreadPool::shared();
  p.parallel_for(texts.size(), [&](size_t i) { out[i] = encode(texts[i], add_special_tokens); });
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids, bool skip_special_tokens) const {
  const Impl& t = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    if (const tok::AddedToken* a = t.added.find_id(id)) {
      if (!(skip_special_tokens && a->special)) tokens.push_back(a->content);
    } else if (const std::string* s = t.model->id_to_token(id)) {
      tokens.push_back(*s);
    }
  }
  if (!t.decoder) return join(tokens, " ");
  t.decoder->decode(tokens);
  std::string out;
  for (const auto& s : tokens) out += s;
  return out;
}

std::optional<int> Tokenizer::token_to_id(std::string_view token) const {
  if (const tok::AddedToken* a = impl_->added.find_content(token)) return a->id;
  const int id = impl_->model->token_to_id(token);
  return id >= 0 ? std::optional<int>(id) : std::nullopt;
}

std::optional<std::string> Tokenizer::id_to_token(int id) const {
  if (const tok::AddedToken* a = impl_->added.find_id(id)) return a->content;
  if (const std::string* s = impl_->model->id_to_token(id)) return *s;
  return std::nullopt;
}

size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

bool Tokenizer::is_special(int id) const {
  const tok::AddedToken* a = impl_->added.find_id(id);
  return a && a->special;
}

const SpecialTokenIds& Tokenizer::special_ids() const { return impl_->special; }
const std::string& Tokenizer::chat_template() const { return impl_->chat_template; }
const std::string& Tokenizer::source() const { return impl_->source; }

StreamDecoder::StreamDecoder(Tokenizer tokenizer, bool skip_special_tokens)
    : tokenizer_(std::move(tokenizer)), skip_special_(skip_special_tokens) {}

// Decodes context + pending ids together (decoders such as Metaspace treat the first token
// differently) and emits what lies past the context's text once it is complete.
std::string StreamDecoder::push(int id) {
  window_.push_back(id);
  const tok::BpeModel& model = *tokenizer_.impl_->model;
  if (model.byte_fallback()) {
    const std::string* token = model.id_to_token(id);
    if (token && token->size() == 6 && token->compare(0, 3, "<0x") == 0 && token->back() == '>') return "";
  }
  const std::string text = tokenizer_.decode(window_, skip_special_);
  const bool incomplete = text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
  if (incomplete || text.size() <= context_text_.size() || text.compare(0, context_text_.size(), context_text_) != 0)
    return "";
  std::string fresh = text.substr(context_text_.size());
  window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(context_));
  context_ = window_.size();
  context_text_ = tokenizer_.decode(window_, skip_special_);
  return fresh;
}

std::string StreamDecoder::finish() {
  const std::string text = tokenizer_.decode(window_, skip_special_);
  std::string rest = text.size() > context_text_.size() ? text.substr(context_text_.size()) : "";
  window_.clear();
  context_ = 0;
  context_text_.clear();
  return rest;
}

}  // namespace grpo
