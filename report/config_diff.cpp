// Config flattening and differences; see config_diff.h.
#include "report/config_diff.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "core/error.h"

namespace grpo::report {
namespace {

bool all_scalars(const YAML::Node& sequence) {
  for (const auto& item : sequence)
    if (!item.IsScalar() && !item.IsNull()) return false;
  return true;
}

void flatten(const YAML::Node& node, const std::string& key, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    if (node.size() == 0 && !key.empty()) out[key] = "{}";
    for (const auto& entry : node) {
      const std::string child = entry.first.as<std::string>();
      flatten(entry.second, key.empty() ? child : key + "." + child, out);
    }
  } else if (node.IsSequence()) {
    if (all_scalars(node)) {
      std::string list = "[";
      for (size_t i = 0; i < node.size(); ++i) list += (i ? ", " : "") + (node[i].IsNull() ? "~" : node[i].Scalar());
      out[key] = list + "]";
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) flatten(node[i], key + "[" + std::to_string(i) + "]", out);
  } else if (node.IsNull()) {
    out[key] = "~";
  } else {
    out[key] = node.Scalar();
  }
}

}  // namespace

std::map<std::string, std::string> flatten_config(const std::string& yaml_text, const std::string& source) {
  std::map<std::string, std::string> out;
  if (yaml_text.empty()) return out;
  try {
    flatten(YAML::Load(yaml_text), "", out);
  } catch (const YAML::Exception& e) {
    throw Error(SourceLocation{source, e.mark.line + 1, e.mark.column + 1},
                "stored config (meta 'config') is not YAML: " + e.msg);
  }
  return out;
}

std::vector<ConfigDifference> config_differences(const std::vector<std::map<std::string, std::string>>& configs) {
  std::set<std::string> keys;
  for (const auto& config : configs)
    for (const auto& entry : config) keys.insert(entry.first);
  std::vector<ConfigDifference> out;
  for (const auto& key : keys) {
    ConfigDifference d{key, {}};
    for (const auto& config : configs) {
      const auto it = config.find(key);
      d.values.push_back(it == config.end() ? std::nullopt : std::optional<std::string>(it->second));
    }
    bool same = true;
    for (const auto& v : d.values) same = same && v == d.values.front();
    if (!same) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace grpo::report
