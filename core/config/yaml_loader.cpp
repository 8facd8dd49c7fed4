// The visitor that reads a YAML document (plus key=value overrides) into a described
// struct, collecting every problem with its location before throwing one grpo::Error.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/config/config_io.h"
#include "core/error.h"
#include "core/strings.h"

namespace grpo::config {
namespace {

const char* node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing (null)";
    default: return "a scalar";
  }
}

// "rewards[3].weight" -> "rewards[].weight": the shape used by all_keys().
std::string normalize_indices(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    out += key[i];
    if (key[i] == '[') {
      while (i + 1 < key.size() && key[i + 1] != ']') ++i;
    }
  }
  return out;
}

// Bounds on the free-form maps of one document. YAML aliases repeat the node they name each
// time they are used, so a few lines of nested aliases can stand for billions of values
// ("billion laughs"); the converted values are bounded instead of the aliases, since that is
// what costs memory, and across the whole document, since a list of sections can name one
// expanding map from each of its items (found by a crafted config: 300 items, 30M values).
constexpr size_t kMaxFreeFormValues = 100000;
constexpr size_t kMaxFreeFormDepth = 64;

// A free-form map that cannot be converted; the visitor reports it at `node`, or at the map
// itself when `node` is empty (an expansion belongs to no single node).
struct FreeFormProblem {
  YAML::Node node;
  std::string message;
};

// `values_left` counts down every converted value across the document's free-form maps.
nlohmann::json yaml_to_json(const YAML::Node& n, size_t depth, size_t& values_left) {
  if (values_left == 0)
    throw FreeFormProblem{YAML::Node(YAML::NodeType::Undefined),
                          "expands to more than " + std::to_string(kMaxFreeFormValues) +
                              " values with the document's other free-form maps (each use of a YAML "
                              "alias repeats the node it names)"};
  --values_left;
  if (depth > kMaxFreeFormDepth)
    throw FreeFormProblem{n, "nests deeper than " + std::to_string(kMaxFreeFormDepth) + " levels"};
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar() && !kv.first.IsNull())
          throw FreeFormProblem{kv.first, std::string("has a key that is ") + node_kind(kv.first) + ", expected a plain key"};
        obj[kv.first.as<std::string>()] = yaml_to_json(kv.second, depth + 1, values_left);
      }
      return obj;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : n) arr.push_back(yaml_to_json(item, depth + 1, values_left));
      return arr;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted in the source: keep it a string
      int64_t i;
      double d;
      bool b;
      if (YAML::convert<int64_t>::decode(n, i)) return i;
      if (YAML::convert<double>::decode(n, d)) return d;
      if (YAML::convert<bool>::decode(n, b)) return b;
      return s;
    }
    default: return nullptr;
  }
}

// Leaf keys plus every section prefix ("rl", "rl.kl"), so a misspelt section is matched too.
std::vector<std::string> with_sections(std::vector<std::string> keys) {
  std::set<std::string> all(keys.begin(), keys.end());
  for (const auto& k : keys)
    for (size_t dot = k.find('.'); dot != std::string::npos; dot = k.find('.', dot + 1)) all.insert(k.substr(0, dot));
  return {all.begin(), all.end()};
}

class LoadVisitor : public Fields {
 public:
  using Fields::field;
  using Fields::list;
  using Fields::section;

  LoadVisitor(const std::string& source, const std::map<std::string, std::string>& override_origin,
              std::vector<std::string> valid_keys)
      : source_(source), override_origin_(override_origin), valid_keys_(with_sections(std::move(valid_keys))) {}

  std::vector<std::string> errors;

  void visit_root(const YAML::Node& root, const Describe& describe) {
    if (root && !root.IsNull() && !root.IsMap()) {
      error(root, "", std::string("the top level must be a map of keys, got ") + node_kind(root));
      return;
    }
    frames_.push_back({root, "", {}});
    describe(*this);
    check_unknown();
    frames_.pop_back();
  }

  void field(const std::string& key, bool& v, bool, const std::string&) override {
    scalar(key, "a boolean (true/false)", [&](const YAML::Node& n) { return YAML::convert<bool>::decode(n, v); });
  }
  void field(const std::string& key, int64_t& v, int64_t, const std::string&) override {
    scalar(key, "an integer", [&](const YAML::Node& n) { return YAML::convert<int64_t>::decode(n, v); });
  }
  void field(const std::string& key, double& v, double, const std::string&) override {
    scalar(key, "a number", [&](const YAML::Node& n) { return YAML::convert<double>::decode(n, v); });
  }
  void field(const std::string& key, std::string& v, const std::string&, const std::string&) override {
    scalar(key, "a string", [&](const YAML::Node& n) {
      v = n.Scalar();
      return true;
    });
  }
  void field(const std::string& key, std::vector<std::string>& v, const std::vector<std::string>&,
             const std::string&) override {
    sequence(key, "a list of strings", [&](const YAML::Node& n) {
      std::vector<std::string> out;
      for (const auto& item : n) {
        if (!item.IsScalar()) return false;
        out.push_back(item.Scalar());
      }
      v = out;
      return true;
    });
  }
  void field(const std::string& key, std::vector<double>& v, const std::vector<double>&,
             const std::string&) override {
    sequence(key, "a list of numbers", [&](const YAML::Node& n) {
      std::vector<double> out;
      for (const auto& item : n) {
        double d;
        if (!item.IsScalar() || !YAML::convert<double>::decode(item, d)) return false;
        out.push_back(d);
      }
      v = out;
      return true;
    });
  }
  void field(const std::string& key, nlohmann::json& v, const nlohmann::json&, const std::string&) override {
    YAML::Node n = take(key);
    if (!n) return;
    if (!n.IsMap() && !n.IsNull()) {
      error(n, full(key), std::string("expects a map, got ") + node_kind(n));
      return;
    }
    if (n.IsNull()) {
      v = nlohmann::json::object();
      return;
    }
    try {
      v = yaml_to_json(n, 0, free_form_values_left_);
    } catch (const FreeFormProblem& p) {
      error(p.node.IsDefined() ? p.node : n, full(key), p.message);
    }
  }
  void choice(const std::string& key, std::string& v, const std::string&, const std::vector<std::string>& allowed,
              const std::string&) override {
    const std::string expected = "one of " + join(allowed, ", ");
    scalar(key, expected, [&](const YAML::Node& n) {
      for (const auto& a : allowed)
        if (n.Scalar() == a) {
          v = a;
          return true;
        }
      return false;
    });
  }
  void section(const std::string& key, const std::string&, const std::function<void(Fields&)>& describe) override {
    YAML::Node n = take(key);
    if (n && !n.IsNull() && !n.IsMap()) {
      error(n, full(key), std::string("expects a map of keys, got ") + node_kind(n));
      return;
    }
    frames_.push_back({n, full(key), {}});
    describe(*this);
    check_unknown();
    frames_.pop_back();
  }
  void list(const std::string& key, const std::string&, const ListAccess& a) override {
    YAML::Node n = take(key);
    if (!n) return;
    if (!n.IsSequence()) {
      error(n, full(key), std::string("expects a list, got ") + node_kind(n));
      return;
    }
    a.resize(n.size());
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string item_key = full(key) + "[" + std::to_string(i) + "]";
      apply_defaults([&](Fields& f) { a.visit(i, f); });
      if (!n[i].IsMap()) {
        error(n[i], item_key, std::string("expects a map of keys, got ") + node_kind(n[i]));
        continue;
      }
      frames_.push_back({n[i], item_key, {}});
      a.visit(i, *this);
      check_unknown();
      frames_.pop_back();
    }
  }

 private:
  struct Frame {
    YAML::Node node;
    std::string prefix;
    std::set<std::string> used;
  };
  size_t free_form_values_left_ = kMaxFreeFormValues;  // for the whole document

  std::string full(const std::string& key) const {
    const std::string& p = frames_.back().prefix;
    return p.empty() ? key : p + "." + key;
  }

  // The child node for key in the current map (marked as used), or an invalid node.
  YAML::Node take(const std::string& key) {
    Frame& f = frames_.back();
    if (!f.node || !f.node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = f.node;  // const access: never inserts the key
    YAML::Node child = map[key];
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    f.used.insert(key);
    return child;
  }

  template <class Parse>
  void scalar(const std::string& key, const std::string& expected, Parse parse) {
    YAML::Node n = take(key);
    if (!n) return;
    if (!n.IsScalar() || !parse(n))
      error(n, full(key), "expects " + expected + ", got " + describe_value(n));
  }

  template <class Parse>
  void sequence(const std::string& key, const std::string& expected, Parse parse) {
    YAML::Node n = take(key);
    if (!n) return;
    if (!n.IsSequence() || !parse(n)) error(n, full(key), "expects " + expected + ", got " + describe_value(n));
  }

  static std::string describe_value(const YAML::Node& n) {
    if (n.IsScalar()) return "'" + n.Scalar() + "'";
    return node_kind(n);
  }

  void check_unknown() {
    const Frame& f = frames_.back();
    if (!f.node || !f.node.IsMap()) return;
    for (const auto& kv : f.node) {
      if (!kv.first.IsScalar() && !kv.first.IsNull()) {  // null converts to "null"
        error(kv.first, f.prefix, std::string("has a key that is ") + node_kind(kv.first) + ", expected a plain key");
        continue;
      }
      const std::string key = kv.first.as<std::string>();
      if (f.used.count(key)) continue;
      const std::string dotted = f.prefix.empty() ? key : f.prefix + "." + key;
      std::string closest = closest_any(normalize_indices(dotted));
      error(kv.first, dotted,
            "unknown key" + (closest.empty() ? std::string() : "; the closest valid key is '" + closest + "'"));
    }
  }

  // The first valid key (in sorted order) at the least edit distance from `key`: a file of
  // unknown keys asks this once per key against every valid key, so a candidate is measured only
  // as far as it could still beat the best so far. A length difference of at least the best
  // distance cannot beat it, and the dynamic programme stops once a whole row reaches it (a row's
  // minimum never decreases further down).
  std::string closest_any(const std::string& key) const {
    const std::string* best = nullptr;
    size_t best_d = SIZE_MAX;
    std::vector<size_t> prev, cur;
    for (const auto& k : valid_keys_) {
      const size_t gap = key.size() > k.size() ? key.size() - k.size() : k.size() - key.size();
      if (gap >= best_d) continue;
      prev.resize(k.size() + 1);
      cur.resize(k.size() + 1);
      for (size_t j = 0; j <= k.size(); ++j) prev[j] = j;
      bool beaten = false;
      for (size_t i = 1; i <= key.size() && !beaten; ++i) {
        cur[0] = i;
        size_t row_min = i;
        for (size_t j = 1; j <= k.size(); ++j) {
          const size_t sub = prev[j - 1] + (key[i - 1] == k[j - 1] ? 0 : 1);
          cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
          row_min = std::min(row_min, cur[j]);
        }
        std::swap(prev, cur);
        beaten = row_min >= best_d;
      }
      if (!beaten && prev[k.size()] < best_d) best_d = prev[k.size()], best = &k;
    }
    return best ? *best : std::string();
  }

  void error(const YAML::Node& n, const std::string& key, const std::string& message) {
    const std::string quoted_key = key.empty() ? "" : "'" + key + "' ";
    auto it = override_origin_.find(normalize_indices(key));
    if (!key.empty() && it != override_origin_.end()) {
      errors.push_back(Error(SourceLocation{"<command line>", 0, 0},
                             quoted_key + message + " (from override '" + it->second + "')")
                           .what());
      return;
    }
    SourceLocation where{source_, 0, 0};
    const YAML::Mark m = n.Mark();
    if (!m.is_null()) where.line = m.line + 1, where.column = m.column + 1;
    errors.push_back(Error(where, quoted_key + message).what());
  }

  std::string source_;
  const std::map<std::string, std::string>& override_origin_;
  std::vector<std::string> valid_keys_;
  std::vector<Frame> frames_;
};

// Applies one "a.b.c=value" to the document; list items are addressed by index ("rewards.0.weight").
void apply_override(YAML::Node& root, const std::string& text, std::map<std::string, std::string>& origin) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error(SourceLocation{"<command line>", 0, 0},
                "override '" + text + "' is not of the form key=value (e.g. rl.group_size=8)");
  const std::string key = text.substr(0, eq), value = text.substr(eq + 1);
  YAML::Node parsed;
  try {
    parsed = value.empty() ? YAML::Node(std::string()) : YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw Error(SourceLocation{"<command line>", 0, 0}, "override '" + text + "': value is not valid YAML: " + e.msg);
  }
  std::string dotted;
  YAML::Node cur = root;
  const auto parts = split(key, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const bool is_index = !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
    if (is_index && cur.IsSequence()) {
      const uint64_t idx = parse_decimal(p).value_or(UINT64_MAX);  // too long to fit is past the end
      if (idx >= cur.size())
        throw Error(SourceLocation{"<command line>", 0, 0},
                    "override '" + text + "': '" + dotted + "' has " + std::to_string(cur.size()) + " items");
      dotted += "[" + p + "]";
      if (i + 1 == parts.size()) {
        cur[idx] = parsed;
      } else {
        YAML::Node next = cur[idx];
        cur.reset(next);
      }
      continue;
    }
    if (!cur.IsMap() && !cur.IsNull())
      throw Error(SourceLocation{"<command line>", 0, 0},
                  "override '" + text + "': '" + dotted + "' is not a map of keys");
    dotted += (dotted.empty() ? "" : ".") + p;
    if (i + 1 == parts.size()) {
      cur[p] = parsed;
    } else {
      if (!cur[p].IsDefined() || cur[p].IsNull()) cur[p] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = cur[p];
      cur.reset(next);
    }
  }
  origin[normalize_indices(dotted)] = text;
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(SourceLocation{path, 0, 0}, "cannot open file (missing or unreadable)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void load_yaml(const Describe& describe, const std::string& yaml_text, const std::string& source_name,
               const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw Error(SourceLocation{source_name, e.mark.line + 1, e.mark.column + 1}, "malformed YAML: " + e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  std::map<std::string, std::string> origin;
  if (root.IsMap())
    for (const auto& o : overrides) apply_override(root, o, origin);
  LoadVisitor visitor(source_name, origin, all_keys(describe));
  visitor.visit_root(root, describe);
  if (!visitor.errors.empty()) throw Error(join(visitor.errors, "\n"));
}

}  // namespace grpo::config
