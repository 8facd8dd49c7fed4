// Typed configuration, declared once per struct. A config struct T gets a free function
//   void describe(grpo::config::Fields& f, T& s);
// that names each member with its key, default and one-line description. The same
// description drives defaults, YAML loading with exact errors, YAML output, and the
// generated docs/config.md: there is no second list of keys to keep in sync.
// This header does not parse YAML; see loader.h.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace grpo::config {

// Access to a std::vector<T> of described structs, without templates in the visitors.
struct ListAccess {
  std::function<size_t()> size;
  std::function<void(size_t)> resize;        // new elements take their described defaults
  std::function<void(size_t, class Fields&)> visit;  // describe(fields, items[i])
  std::function<void()> assign_default;      // items = the declared default list
  std::function<void(class Fields&)> visit_prototype;  // describe() on a scratch element, for docs
};

class Fields {
 public:
  virtual ~Fields() = default;

  virtual void field(const std::string& key, bool& value, bool def, const std::string& doc) = 0;
  virtual void field(const std::string& key, int64_t& value, int64_t def, const std::string& doc) = 0;
  virtual void field(const std::string& key, double& value, double def, const std::string& doc) = 0;
  virtual void field(const std::string& key, std::string& value, const std::string& def,
                     const std::string& doc) = 0;
  virtual void field(const std::string& key, std::vector<std::string>& value,
                     const std::vector<std::string>& def, const std::string& doc) = 0;
  virtual void field(const std::string& key, std::vector<double>& value, const std::vector<double>& def,
                     const std::string& doc) = 0;
  // A free-form map (e.g. a reward's own parameters); checked by whoever consumes it.
  virtual void field(const std::string& key, nlohmann::json& value, const nlohmann::json& def,
                     const std::string& doc) = 0;
  // One of a fixed set of strings.
  virtual void choice(const std::string& key, std::string& value, const std::string& def,
                      const std::vector<std::string>& allowed, const std::string& doc) = 0;
  // A nested map of fields: describe_section(fields) is called with keys relative to it.
  virtual void section(const std::string& key, const std::string& doc,
                       const std::function<void(Fields&)>& describe_section) = 0;
  virtual void list(const std::string& key, const std::string& doc, const ListAccess& access) = 0;

  // Convenience overloads for the other integer widths.
  template <class Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool> &&
                                            !std::is_same_v<Int, int64_t>, int> = 0>
  void field(const std::string& key, Int& value, int64_t def, const std::string& doc) {
    int64_t wide = static_cast<int64_t>(value);
    field(key, wide, def, doc);
    value = static_cast<Int>(wide);
  }
  void field(const std::string& key, std::string& value, const char* def, const std::string& doc) {
    field(key, value, std::string(def), doc);
  }
  template <class T>
  void section(const std::string& key, T& value, const std::string& doc) {
    section(key, doc, [&value](Fields& f) { describe(f, value); });
  }
  template <class T>
  void list(const std::string& key, std::vector<T>& items, std::vector<T> def, const std::string& doc) {
    ListAccess a;
    a.size = [&items] { return items.size(); };
    a.resize = [&items](size_t n) { items.resize(n); };
    a.visit = [&items](size_t i, Fields& f) { describe(f, items[i]); };
    a.assign_default = [&items, def] { items = def; };
    a.visit_prototype = [](Fields& f) {
      T scratch{};
      describe(f, scratch);
    };
    list(key, doc, a);
  }
};

}  // namespace grpo::config
