// The visitor that renders docs/config.md from the same descriptions the loader uses, so
// the reference can never drift from the code (a test regenerates and compares it).
#include <sstream>

#include "core/config/config_io.h"
#include "core/strings.h"

namespace grpo::config {
namespace {

std::string show_double(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string cell(std::string s) {
  // Table cells: escape pipes, show empty values explicitly.
  std::string out;
  for (char c : s) out += (c == '|') ? std::string("\\|") : std::string(1, c);
  return out.empty() ? "\"\"" : out;
}

class DocsVisitor : public Fields {
 public:
  using Fields::field;
  using Fields::list;
  using Fields::section;
  std::ostringstream out;

  void field(const std::string& k, bool&, bool d, const std::string& doc) override {
    row(k, "bool", d ? "true" : "false", doc);
  }
  void field(const std::string& k, int64_t&, int64_t d, const std::string& doc) override {
    row(k, "int", std::to_string(d), doc);
  }
  void field(const std::string& k, double&, double d, const std::string& doc) override {
    row(k, "float", show_double(d), doc);
  }
  void field(const std::string& k, std::string&, const std::string& d, const std::string& doc) override {
    row(k, "string", d, doc);
  }
  void field(const std::string& k, std::vector<std::string>&, const std::vector<std::string>& d,
             const std::string& doc) override {
    row(k, "list of strings", "[" + join(d, ", ") + "]", doc);
  }
  void field(const std::string& k, std::vector<double>&, const std::vector<double>& d,
             const std::string& doc) override {
    std::vector<std::string> parts;
    for (double v : d) parts.push_back(show_double(v));
    row(k, "list of floats", "[" + join(parts, ", ") + "]", doc);
  }
  void field(const std::string& k, nlohmann::json&, const nlohmann::json& d, const std::string& doc) override {
    row(k, "map", d.dump(), doc);
  }
  void choice(const std::string& k, std::string&, const std::string& d, const std::vector<std::string>& allowed,
              const std::string& doc) override {
    row(k, "one of: " + join(allowed, ", "), d, doc);
  }
  void section(const std::string& k, const std::string& doc, const std::function<void(Fields&)>& s) override {
    prefix_.push_back(k);
    heading(doc);
    s(*this);
    prefix_.pop_back();
  }
  void list(const std::string& k, const std::string& doc, const ListAccess& a) override {
    prefix_.push_back(k + "[]");
    heading(doc + " A list; each item has these keys.");
    a.visit_prototype(*this);
    prefix_.pop_back();
  }

 private:
  void heading(const std::string& doc) {
    out << "\n## `" << join(prefix_, ".") << "`\n\n" << doc << "\n\n";
    out << "| key | type | default | description |\n|---|---|---|---|\n";
  }
  void row(const std::string& k, const std::string& type, const std::string& def, const std::string& doc) {
    std::string key = join(prefix_, ".");
    key += key.empty() ? k : "." + k;
    out << "| `" << key << "` | " << cell(type) << " | `" << cell(def) << "` | " << cell(doc) << " |\n";
  }
  std::vector<std::string> prefix_;
};

}  // namespace

std::string docs_markdown(const Describe& describe, const std::string& title, const std::string& intro) {
  DocsVisitor v;
  describe(v);
  return "# " + title + "\n\n" + intro + "\n" + v.out.str();
}

}  // namespace grpo::config
