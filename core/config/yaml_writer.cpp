// The visitor that writes a described struct as YAML: the resolved config that
// `grpo config show` prints and every run saves as config.yaml.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>

#include "core/config/config_io.h"

namespace grpo::config {
namespace {

// Shortest text that reads back to the same double ("0.2", not "0.20000000000000001").
std::string format_double(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  // Keep a float-looking form so the reader's type is obvious.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

void emit_json(YAML::Emitter& out, const nlohmann::json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      emit_json(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : j) emit_json(out, item);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    out << j.get<std::string>();
  } else if (j.is_number_float()) {
    out << format_double(j.get<double>());
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();
  }
}

class EmitVisitor : public Fields {
 public:
  using Fields::field;
  using Fields::list;
  using Fields::section;
  explicit EmitVisitor(YAML::Emitter& out) : out_(out) {}

  void field(const std::string& k, bool& v, bool, const std::string&) override { kv(k) << (v ? "true" : "false"); }
  void field(const std::string& k, int64_t& v, int64_t, const std::string&) override { kv(k) << v; }
  void field(const std::string& k, double& v, double, const std::string&) override { kv(k) << format_double(v); }
  void field(const std::string& k, std::string& v, const std::string&, const std::string&) override {
    kv(k) << YAML::DoubleQuoted << v;
  }
  void field(const std::string& k, std::vector<std::string>& v, const std::vector<std::string>&,
             const std::string&) override {
    kv(k) << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out_ << YAML::DoubleQuoted << s;
    out_ << YAML::EndSeq;
  }
  void field(const std::string& k, std::vector<double>& v, const std::vector<double>&,
             const std::string&) override {
    kv(k) << YAML::Flow << YAML::BeginSeq;
    for (double d : v) out_ << format_double(d);
    out_ << YAML::EndSeq;
  }
  void field(const std::string& k, nlohmann::json& v, const nlohmann::json&, const std::string&) override {
    kv(k);
    if (v.is_object() && v.empty())
      out_ << YAML::Flow << YAML::BeginMap << YAML::EndMap;
    else
      emit_json(out_, v);
  }
  void choice(const std::string& k, std::string& v, const std::string&, const std::vector<std::string>&,
              const std::string&) override { kv(k) << v; }
  void section(const std::string& k, const std::string&, const std::function<void(Fields&)>& s) override {
    kv(k) << YAML::BeginMap;
    s(*this);
    out_ << YAML::EndMap;
  }
  void list(const std::string& k, const std::string&, const ListAccess& a) override {
    kv(k) << YAML::BeginSeq;
    for (size_t i = 0; i < a.size(); ++i) {
      out_ << YAML::BeginMap;
      a.visit(i, *this);
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }

 private:
  YAML::Emitter& kv(const std::string& k) { return out_ << YAML::Key << k << YAML::Value; }
  YAML::Emitter& out_;
};

}  // namespace

std::string to_yaml(const Describe& describe) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  EmitVisitor v(out);
  describe(v);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace grpo::config
