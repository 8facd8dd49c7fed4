// Loading tokenizer.json and tokenizer_config.json into a Tokenizer::Impl. Every problem
// is a grpo::Error naming the file and the field. The model must be BPE (WordPiece,
// Unigram and WordLevel are rejected by name).
#include <fstream>
#include <sstream>

#include "model/tokenizer/tokenizer_impl.h"

namespace grpo::tok {
namespace {

std::vector<AddedToken> read_added_tokens(const Json& j, const Fields& f) {
  std::vector<AddedToken> tokens;
  if (!j.contains("added_tokens") || j["added_tokens"].is_null()) return tokens;
  const Json& list = f.array(j, "added_tokens", "");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = Fields::index("added_tokens", i);
    const Json& t = list[i];
    if (!t.is_object()) f.fail(path, "expected an object");
    AddedToken a;
    const long long id = f.integer(t, "id", path);
    if (id < 0) f.fail(Fields::join(path, "id"), "expected a non-negative id");
    a.id = static_cast<int>(id);
    a.content = f.string(t, "content", path);
    if (a.content.empty()) f.fail(Fields::join(path, "content"), "an added token cannot be empty");
    a.single_word = f.boolean_or(t, "single_word", path, false);
    a.lstrip = f.boolean_or(t, "lstrip", path, false);
    a.rstrip = f.boolean_or(t, "rstrip", path, false);
    a.special = f.boolean_or(t, "special", path, false);
    a.normalized = f.boolean_or(t, "normalized", path, !a.special);
    tokens.push_back(std::move(a));
  }
  return tokens;
}

std::unique_ptr<BpeModel> read_model(const Json& j, const Fields& f) {
  const Json& model = f.object(j, "model", "");
  // Old files omit model.type; a BPE model is recognized by its merges.
  const std::string type = model.contains("type") ? f.string(model, "type", "model") : "BPE";
  if (type != "BPE")
    f.fail("model.type", "unsupported model type '" + type + "' (grpo.cpp reads BPE tokenizers only)");
  return std::make_unique<BpeModel>(model, f);
}

// bos_token and friends: a string, an AddedToken-like object {"content": ...}, or null.
std::optional<std::string> token_text(const Json& cfg, const char* key, const Fields& f) {
  const auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) return f.string(*it, "content", key);
  f.fail(key, "expected a string or an object with \"content\"");
}

std::optional<int> token_id(const Tokenizer::Impl& impl, const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  if (const AddedToken* a = impl.added.find_content(*text)) return a->id;
  const int id = impl.model->token_to_id(*text);
  return id >= 0 ? std::optional<int>(id) : std::nullopt;
}

std::string read_chat_template(const Json& cfg, const Fields& f) {
  const auto it = cfg.find("chat_template");
  if (it == cfg.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) f.fail("chat_template", "expected a string or a list of {name, template}");
  // Named templates: the one called "default", else the first.
  for (const auto& entry : *it)
    if (entry.is_object() && entry.value("name", "") == "default") return f.string(entry, "template", "chat_template");
  if (it->empty()) return "";
  return f.string((*it)[0], "template", "chat_template[0]");
}

// A fixed post-processor: [bos] sequence [eos].
class BosEos : public PostProcessor {
 public:
  BosEos(std::optional<int> bos, std::optional<int> eos) : bos_(bos), eos_(eos) {}
  void process(std::vector<int>& ids) const override {
    if (bos_) ids.insert(ids.begin(), *bos_);
    if (eos_) ids.push_back(*eos_);
  }

 private:
  std::optional<int> bos_, eos_;
};

std::shared_ptr<Tokenizer::Impl> read_tokenizer_json(const Json& j, const std::string& source) {
  const Fields f(source);
  if (!j.is_object()) f.fail("<root>", "expected a JSON object");
  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->source = source;
  impl->model = read_model(j, f);
  impl->normalizer = make_normalizer(j.value("normalizer", Json()), f, "normalizer");
  impl->pre_tokenizer = make_pre_tokenizer(j.value("pre_tokenizer", Json()), f, "pre_tokenizer");
  impl->post_processor = make_post_processor(j.value("post_processor", Json()), f, "post_processor");
  impl->decoder = make_decoder(j.value("decoder", Json()), f, "decoder");
  const Normalizer* normalizer = impl->normalizer.get();
  impl->added.build(read_added_tokens(j, f), [normalizer](std::string s) {
    if (normalizer) normalizer->normalize(s);
    return s;
  });
  impl->vocab_size = impl->model->size();
  for (const auto& t : impl->added.tokens())
    impl->vocab_size = std::max(impl->vocab_size, static_cast<size_t>(t.id) + 1);
  // The post-processor's special tokens come from its own table: each must lie in the vocabulary,
  // or encode would hand the model an id outside its embedding (found by tokenizer_json_fuzz).
  if (impl->post_processor) {
    std::vector<int> added;
    impl->post_processor->process(added);
    for (int id : added)
      if (id < 0 || static_cast<size_t>(id) >= impl->vocab_size)
        f.fail("post_processor", "adds token id " + std::to_string(id) + ", outside the vocabulary of " +
                                     std::to_string(impl->vocab_size) + " ids");
  }
  return impl;
}

}  // namespace

std::shared_ptr<Tokenizer::Impl> load_tokenizer_json(const Json& j, const std::string& source) {
  try {
    return read_tokenizer_json(j, source);
  } catch (const Error& e) {
    // Parts that do not know the file (a regex that does not compile, found by
    // tokenizer_json_fuzz) are named here, so every load error names the file.
    if (!e.where().file.empty()) throw;
    throw Error(SourceLocation{source, 0, 0}, e.message());
  }
}

void apply_tokenizer_config(const Json& cfg, const std::string& source, Tokenizer::Impl& impl) {
  const Fields f(source);
  if (!cfg.is_object()) f.fail("<root>", "expected a JSON object");
  impl.special.bos = token_id(impl, token_text(cfg, "bos_token", f));
  impl.special.eos = token_id(impl, token_text(cfg, "eos_token", f));
  impl.special.pad = token_id(impl, token_text(cfg, "pad_token", f));
  impl.chat_template = read_chat_template(cfg, f);
  // transformers' LlamaTokenizerFast rebuilds the post-processor from these flags
  // (defaults: BOS on, EOS off), whatever tokenizer.json says.
  const std::string cls = cfg.value("tokenizer_class", "");
  if (cls == "LlamaTokenizerFast" || cls == "LlamaTokenizer") {
    const bool add_bos = f.boolean_or(cfg, "add_bos_token", "", true);
    const bool add_eos = f.boolean_or(cfg, "add_eos_token", "", false);
    if (add_bos && !impl.special.bos) f.fail("add_bos_token", "is true but bos_token is not a known token");
    if (add_eos && !impl.special.eos) f.fail("add_eos_token", "is true but eos_token is not a known token");
    impl.post_processor = std::make_unique<BosEos>(add_bos ? impl.special.bos : std::nullopt,
                                                   add_eos ? impl.special.eos : std::nullopt);
  }
}

}  // namespace grpo::tok
