// Prompt and chat templates as data (configs/templates/*.json), not code: R1-Zero, ChatML
// (Qwen), Llama-3 and DeepSeek. A template wraps each message in a per-role prefix and
// suffix, optionally adds a default system message and a begin string (BOS text), and
// ends with the generation prompt. `recognize_chat_template` tells which known format a
// tokenizer_config.json Jinja chat_template is, by distinctive markers. This is not a Jinja
// engine: tools, per-message conditionals and thinking-stripping of assistant turns are
// outside what these templates express.
//
// Template file (version 1):
//   {"version": 1, "name": "chatml", "description": "...", "begin": "",
//    "default_system": "You are a helpful assistant." | null, "trim_content": false,
//    "roles": {"system": {"prefix": "...", "suffix": "..."}, "user": {...}, "assistant": {...}},
//    "generation_prompt": "<|im_start|>assistant\n", "recognize": ["<|im_start|>", ...]}
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace grpo {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant" (any role the template lists)
  std::string content;
};

struct ChatTemplate {
  struct Role {
    std::string prefix;
    std::string suffix;
  };
  std::string name;
  std::string description;
  std::string begin;
  std::optional<std::string> default_system;  // used when the first message is not "system"
  bool trim_content = false;                   // strip surrounding whitespace (Llama-3's `| trim`)
  std::vector<std::pair<std::string, Role>> roles;
  std::string generation_prompt;
  std::vector<std::string> recognize;  // all must occur in a Jinja template for a match

  // Throws grpo::Error for a role the template does not define.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  // R1-Zero style single prompt: render({{"user", prompt}}, true).
  std::string render_prompt(const std::string& prompt) const;
};

// Reads one template file; errors name the file and field.
ChatTemplate load_chat_template(const std::string& path);
// Where the built-in templates live: $GRPO_TEMPLATE_DIR, else configs/templates of the
// source tree grpo.cpp was built from.
std::string default_template_dir();
// Every *.json template in `dir` (default_template_dir() if empty), sorted by file name.
std::vector<ChatTemplate> load_chat_templates(const std::string& dir = "");
// `name` ("r1_zero", "chatml", "llama3", "deepseek") from `dir`, looked up by the templates'
// `name` fields (a core/registry.h table: two files with one name are a grpo::Error); an
// unknown name suggests the closest and lists the available ones.
ChatTemplate builtin_chat_template(const std::string& name, const std::string& dir = "");

struct TemplateRecognition {
  std::string name;         // "" when the Jinja template is none of the known formats
  std::string explanation;  // which markers matched, or why none did
};
TemplateRecognition recognize_chat_template(const std::string& jinja, const std::vector<ChatTemplate>& known);
TemplateRecognition recognize_chat_template(const std::string& jinja);  // against load_chat_templates()

}  // namespace grpo
