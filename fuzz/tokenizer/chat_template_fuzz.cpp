// libFuzzer target for chat templates (model/tokenizer/chat_template.h): renders arbitrary
// messages through each built-in template (configs/templates) and recognizes the input as a
// tokenizer_config.json Jinja chat_template. Input: byte 0 picks the template and whether to add
// the generation prompt; the rest is role, content, role, content, ... separated by 0x1e.
// Properties: a role the template lacks is a grpo::Error naming it; otherwise the output is the
// template's begin text, the default system message when the first role is not "system", each
// message's prefix + content + suffix in order and the generation prompt, byte for byte.
// Recognition returns one of the known names or "" and never throws.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz/fuzz_check.h"
#include "model/tokenizer/chat_template.h"

using grpo::fuzz::check;

namespace {

const std::vector<grpo::ChatTemplate>& templates() {
  static const std::vector<grpo::ChatTemplate> all = grpo::load_chat_templates();
  return all;
}

std::vector<std::string> split_fields(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t sep; (sep = text.find('\x1e', start)) != std::string::npos; start = sep + 1)
    out.push_back(text.substr(start, sep - start));
  out.push_back(text.substr(start));
  return out;
}

const grpo::ChatTemplate::Role* find_role(const grpo::ChatTemplate& t, const std::string& role) {
  for (const auto& [name, spec] : t.roles)
    if (name == role) return &spec;
  return nullptr;
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n\r\f\v") - b + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& all = templates();
  check(!all.empty(), "the built-in templates load");
  const grpo::ChatTemplate& t = all[data[0] % all.size()];
  const bool generation_prompt = (data[0] / all.size()) % 2 == 1;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto recognized = grpo::recognize_chat_template(rest, all);
  if (!recognized.name.empty()) {
    bool known = false;
    for (const auto& k : all) known = known || k.name == recognized.name;
    check(known, [&] { return "recognition names a known template: " + recognized.name; });
  }

  const auto fields = split_fields(rest);
  std::vector<grpo::ChatMessage> messages;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) messages.push_back({fields[i], fields[i + 1]});

  std::string expected = t.begin;
  bool every_role_known = true;
  auto append = [&](const std::string& role, const std::string& content) {
    const auto* r = find_role(t, role);
    if (!r) {
      every_role_known = false;
      return;
    }
    expected += r->prefix + (t.trim_content ? trimmed(content) : content) + r->suffix;
  };
  if (t.default_system && (messages.empty() || messages.front().role != "system")) append("system", *t.default_system);
  for (const auto& m : messages) append(m.role, m.content);
  if (generation_prompt) expected += t.generation_prompt;

  try {
    const std::string out = t.render(messages, generation_prompt);
    check(every_role_known, "rendering refuses a role the template lacks");
    check(out == expected, "the rendering is begin, system, prefix + content + suffix per message, generation prompt");
  } catch (const grpo::Error& e) {
    check(!every_role_known, [&] { return "only an unknown role is refused: " + std::string(e.what()); });
    check(std::string(e.what()).find(t.name) != std::string::npos, "the refusal names the template");
  }
  return 0;
}
