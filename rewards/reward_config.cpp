// YAML reward-set loader; see reward_config.h.
#include "rewards/reward_config.h"

#include <yaml-cpp/yaml.h>

#include "core/error.h"

namespace grpo::rewards {
namespace {

SourceLocation where(const std::string& path, const YAML::Node& node) {
  const auto mark = node.Mark();
  return {path, mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0};
}

// Plain scalars become booleans or numbers when they read as one; quoted scalars stay strings.
nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Sequence: {
      auto out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      auto out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = to_json(item.second);
      return out;
    }
    case YAML::NodeType::Scalar: break;
  }
  const std::string text = node.Scalar();
  if (node.Tag() == "!") return text;
  long long integer;
  double real;
  bool flag;
  if (YAML::convert<long long>::decode(node, integer)) return integer;
  if (YAML::convert<double>::decode(node, real)) return real;
  if (YAML::convert<bool>::decode(node, flag)) return flag;
  return text;
}

}  // namespace

std::vector<RewardSpec> load_reward_specs(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error(SourceLocation{path, 0, 0}, "cannot open the reward config");
  } catch (const YAML::Exception& e) {
    throw Error(SourceLocation{path, e.mark.line + 1, e.mark.column + 1}, "malformed YAML: " + e.msg);
  }
  const auto list = root["rewards"];
  if (!list) throw Error(SourceLocation{path, 0, 0}, "missing key 'rewards' (a list of {name, weight, params})");
  if (!list.IsSequence()) throw Error(where(path, list), "'rewards' must be a list of {name, weight, params}");
  std::vector<RewardSpec> specs;
  for (const auto& item : list) {
    if (!item.IsMap()) throw Error(where(path, item), "each entry of 'rewards' must be a mapping {name, weight, params}");
    RewardSpec spec;
    for (const auto& kv : item) {
      const auto key = kv.first.as<std::string>();
      if (key != "name" && key != "weight" && key != "params") {
        throw Error(where(path, kv.first), "unknown key '" + key + "' in a reward entry; valid: name, weight, params");
      }
    }
    if (!item["name"] || !item["name"].IsScalar()) throw Error(where(path, item), "reward entry needs 'name'");
    spec.name = item["name"].Scalar();
    if (item["weight"]) {
      try {
        spec.weight = item["weight"].as<double>();
      } catch (const YAML::Exception&) {
        throw Error(where(path, item["weight"]), "'weight' must be a number");
      }
    }
    if (item["params"]) {
      if (!item["params"].IsMap()) throw Error(where(path, item["params"]), "'params' must be a mapping");
      spec.params = to_json(item["params"]);
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace grpo::rewards
