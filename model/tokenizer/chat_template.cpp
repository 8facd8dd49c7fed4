// Chat templates from JSON files and chat_template recognition; see chat_template.h.
#include "model/tokenizer/chat_template.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/registry.h"
#include "core/strings.h"
#include "core/text/json_parse.h"
#include "model/tokenizer/json_fields.h"

namespace grpo {
namespace {

std::string trim_whitespace(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const size_t begin = s.find_first_not_of(ws);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(ws) - begin + 1);
}

ChatTemplate parse_template(const tok::Json& j, const tok::Fields& f) {
  if (!j.is_object()) f.fail("<root>", "expected a JSON object");
  if (f.integer(j, "version", "") != 1) f.fail("version", "unsupported template version (expected 1)");
  ChatTemplate t;
  t.name = f.string(j, "name", "");
  t.description = f.string_or(j, "description", "", "");
  t.begin = f.string_or(j, "begin", "", "");
  if (j.contains("default_system") && !j["default_system"].is_null()) t.default_system = f.string(j, "default_system", "");
  t.trim_content = f.boolean_or(j, "trim_content", "", false);
  const tok::Json& roles = f.object(j, "roles", "");
  for (const auto& [role, spec] : roles.items()) {
    const std::string path = "roles." + role;
    if (!spec.is_object()) f.fail(path, "expected {\"prefix\": ..., \"suffix\": ...}");
    t.roles.push_back({role, {f.string_or(spec, "prefix", path, ""), f.string_or(spec, "suffix", path, "")}});
  }
  t.generation_prompt = f.string(j, "generation_prompt", "");
  const tok::Json& markers = f.array(j, "recognize", "");
  for (size_t i = 0; i < markers.size(); ++i) {
    if (!markers[i].is_string()) f.fail(tok::Fields::index("recognize", i), "expected a string");
    t.recognize.push_back(markers[i].get<std::string>());
  }
  return t;
}

}  // namespace

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  auto role_of = [this](const std::string& role) -> const Role& {
    for (const auto& [name, spec] : roles)
      if (name == role) return spec;
    std::vector<std::string> names;
    for (const auto& r : roles) names.push_back(r.first);
    throw Error("chat template '" + name + "' has no role '" + role + "' (roles: " + join(names, ", ") + ")");
  };
  std::string out = begin;
  auto append = [&](const std::string& role, const std::string& content) {
    const Role& r = role_of(role);
    out += r.prefix;
    out += trim_content ? trim_whitespace(content) : content;
    out += r.suffix;
  };
  if (default_system && (messages.empty() || messages.front().role != "system")) append("system", *default_system);
  for (const auto& m : messages) append(m.role, m.content);
  if (add_generation_prompt) out += generation_prompt;
  return out;
}

std::string ChatTemplate::render_prompt(const std::string& prompt) const { return render({{"user", prompt}}, true); }

ChatTemplate load_chat_template(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(SourceLocation{path, 0, 0}, "cannot open chat template file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_template(parse_untrusted_json(buffer.str(), path), tok::Fields(path));
}

std::string default_template_dir() {
  if (const char* env = std::getenv("GRPO_TEMPLATE_DIR")) return env;
  return std::string(GRPO_TEMPLATE_SOURCE_DIR);
}

std::vector<ChatTemplate> load_chat_templates(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string where = dir.empty() ? default_template_dir() : dir;
  if (!fs::is_directory(where)) throw Error(SourceLocation{where, 0, 0}, "chat template directory does not exist");
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(where))
    if (e.path().extension() == ".json") paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  std::vector<ChatTemplate> out;
  for (const auto& p : paths) out.push_back(load_chat_template(p));
  return out;
}

ChatTemplate builtin_chat_template(const std::string& name, const std::string& dir) {
  Registry<ChatTemplate> templates("chat template");
  for (const auto& t : load_chat_templates(dir)) templates.add(t.name, t);
  return templates.get(name);
}

TemplateRecognition recognize_chat_template(const std::string& jinja, const std::vector<ChatTemplate>& known) {
  const ChatTemplate* best = nullptr;
  for (const auto& t : known) {
    if (t.recognize.empty()) continue;
    const bool all = std::all_of(t.recognize.begin(), t.recognize.end(),
                                 [&](const std::string& m) { return jinja.find(m) != std::string::npos; });
    // The template with the most matching markers is the most specific match.
    if (all && (!best || t.recognize.size() > best->recognize.size())) best = &t;
  }
  if (best) return {best->name, "matches the '" + best->name + "' format (contains " + join(best->recognize, ", ") + ")"};
  std::vector<std::string> names;
  for (const auto& t : known) names.push_back(t.name);
  return {"", "the chat_template is none of the known formats (" + join(names, ", ") +
                  "): none has all of its distinctive markers in it; render prompts with an explicit template"};
}

TemplateRecognition recognize_chat_template(const std::string& jinja) {
  return recognize_chat_template(jinja, load_chat_templates());
}

}  // namespace grpo
