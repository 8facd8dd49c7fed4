// Loading, printing and documenting described config structs (see fields.h).
//   auto cfg = grpo::config::load<MyConfig>("run.yaml", {"rl.group_size=8"});
// Errors: every problem found is collected and thrown as one grpo::Error, one problem per
// line, each naming file:line:column (or the command-line override), the dotted key, and
// what was expected. Unknown keys name the closest valid key.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/config/fields.h"

namespace grpo::config {

using Describe = std::function<void(Fields&)>;

void apply_defaults(const Describe& describe);
// source_name labels errors ("run.yaml"); yaml_text is the document (may be empty).
void load_yaml(const Describe& describe, const std::string& yaml_text, const std::string& source_name,
               const std::vector<std::string>& overrides);
std::string to_yaml(const Describe& describe);
// Every leaf key (dotted, lists as key[]), for suggestions and docs.
std::vector<std::string> all_keys(const Describe& describe);
std::string docs_markdown(const Describe& describe, const std::string& title, const std::string& intro);
// Reads a whole file; a missing/unreadable file is a grpo::Error naming it.
std::string read_text_file(const std::string& path);

template <class T>
T defaults() {
  T cfg{};
  apply_defaults([&cfg](Fields& f) { describe(f, cfg); });
  return cfg;
}

template <class T>
T load_string(const std::string& yaml_text, const std::string& source_name,
              const std::vector<std::string>& overrides = {}) {
  T cfg = defaults<T>();
  load_yaml([&cfg](Fields& f) { describe(f, cfg); }, yaml_text, source_name, overrides);
  return cfg;
}

template <class T>
T load_file(const std::string& path, const std::vector<std::string>& overrides = {}) {
  return load_string<T>(read_text_file(path), path, overrides);
}

template <class T>
std::string to_yaml(T& cfg) {
  return to_yaml([&cfg](Fields& f) { describe(f, cfg); });
}

}  // namespace grpo::config
