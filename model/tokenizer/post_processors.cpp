// tokenizer.json post-processors for single sequences: TemplateProcessing (the "single"
// template with its special_tokens table), ByteLevel (offsets only, so ids are unchanged),
// BertProcessing / RobertaProcessing ([cls] A [sep]) and Sequence. Pair templates are not
// used by grpo.cpp and are ignored.
#include "model/tokenizer/components.h"

namespace grpo::tok {
namespace {

class Template : public PostProcessor {
 public:
  // Each item is either a fixed id list (a special token) or -1 entries for "the sequence".
  explicit Template(std::vector<std::vector<int>> items) : items_(std::move(items)) {}
  void process(std::vector<int>& ids) const override {
    std::vector<int> out;
    out.reserve(ids.size() + 4);
    for (const auto& item : items_) {
      if (item.empty()) out.insert(out.end(), ids.begin(), ids.end());
      else out.insert(out.end(), item.begin(), item.end());
    }
    ids = std::move(out);
  }

 private:
  std::vector<std::vector<int>> items_;  // empty vector = the input sequence
};

class Identity : public PostProcessor {
 public:
  void process(std::vector<int>&) const override {}
};

class Sequence : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  void process(std::vector<int>& ids) const override {
    for (const auto& p : parts_) p->process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

std::vector<int> special_ids(const Json& specials, const std::string& name, const Fields& f, const std::string& path) {
  const std::string field = Fields::join(path, name);
  const auto it = specials.find(name);
  if (it == specials.end()) f.fail(field, "special token used by the template is not defined in special_tokens");
  const Json& ids = f.array(*it, "ids", field);
  std::vector<int> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer()) f.fail(Fields::index(Fields::join(field, "ids"), i), "expected an integer id");
    out.push_back(ids[i].get<int>());
  }
  if (out.empty()) f.fail(Fields::join(field, "ids"), "expected at least one id");
  return out;
}

std::unique_ptr<PostProcessor> make_template(const Json& j, const Fields& f, const std::string& path) {
  const Json& single = f.array(j, "single", path);
  const Json specials = j.contains("special_tokens") ? f.object(j, "special_tokens", path) : Json::object();
  std::vector<std::vector<int>> items;
  for (size_t i = 0; i < single.size(); ++i) {
    const std::string field = Fields::index(Fields::join(path, "single"), i);
    if (single[i].contains("Sequence")) {
      items.emplace_back();
    } else if (single[i].contains("SpecialToken")) {
      const std::string name = f.string(f.object(single[i], "SpecialToken", field), "id", Fields::join(field, "SpecialToken"));
      items.push_back(special_ids(specials, name, f, Fields::join(path, "special_tokens")));
    } else {
      f.fail(field, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  return std::make_unique<Template>(std::move(items));
}

// BertProcessing/RobertaProcessing store "cls" and "sep" as [token, id].
int pair_id(const Json& j, const char* key, const Fields& f, const std::string& path) {
  const Json& v = f.array(j, key, path);
  if (v.size() != 2 || !v[1].is_number_integer()) f.fail(Fields::join(path, key), "expected [token, id]");
  return v[1].get<int>();
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const Json& j, const Fields& f, const std::string& path) {
  if (j.is_null()) return nullptr;
  const std::string type = section_type(j, f, path);
  if (type == "TemplateProcessing") return make_template(j, f, path);
  if (type == "ByteLevel") return std::make_unique<Identity>();
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const int cls = pair_id(j, "cls", f, path), sep = pair_id(j, "sep", f, path);
    return std::make_unique<Template>(std::vector<std::vector<int>>{{cls}, {}, {sep}});
  }
  if (type == "Sequence") {
    const Json& list = f.array(j, "processors", path);
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (size_t i = 0; i < list.size(); ++i) {
      auto part = make_post_processor(list[i], f, Fields::index(Fields::join(path, "processors"), i));
      if (part) parts.push_back(std::move(part));
    }
    return std::make_unique<Sequence>(std::move(parts));
  }
  f.fail(Fields::join(path, "type"), "unsupported post-processor '" + type +
                                         "' (supported: TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence)");
}

}  // namespace grpo::tok
