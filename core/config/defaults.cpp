// The visitor that assigns every declared default, and the one that lists keys.
#include "core/config/config_io.h"

namespace grpo::config {
namespace {

class DefaultsVisitor : public Fields {
 public:
  using Fields::field;
  using Fields::list;
  using Fields::section;
  void field(const std::string&, bool& v, bool d, const std::string&) override { v = d; }
  void field(const std::string&, int64_t& v, int64_t d, const std::string&) override { v = d; }
  void field(const std::string&, double& v, double d, const std::string&) override { v = d; }
  void field(const std::string&, std::string& v, const std::string& d, const std::string&) override { v = d; }
  void field(const std::string&, std::vector<std::string>& v, const std::vector<std::string>& d,
             const std::string&) override { v = d; }
  void field(const std::string&, std::vector<double>& v, const std::vector<double>& d,
             const std::string&) override { v = d; }
  void field(const std::string&, nlohmann::json& v, const nlohmann::json& d, const std::string&) override {
    v = d;
  }
  void choice(const std::string&, std::string& v, const std::string& d, const std::vector<std::string>&,
              const std::string&) override { v = d; }
  void section(const std::string&, const std::string&, const std::function<void(Fields&)>& s) override {
    s(*this);
  }
  void list(const std::string&, const std::string&, const ListAccess& a) override {
    a.assign_default();
  }
};

class KeysVisitor : public Fields {
 public:
  using Fields::field;
  using Fields::list;
  using Fields::section;
  std::vector<std::string> keys;
  void field(const std::string& k, bool&, bool, const std::string&) override { add(k); }
  void field(const std::string& k, int64_t&, int64_t, const std::string&) override { add(k); }
  void field(const std::string& k, double&, double, const std::string&) override { add(k); }
  void field(const std::string& k, std::string&, const std::string&, const std::string&) override { add(k); }
  void field(const std::string& k, std::vector<std::string>&, const std::vector<std::string>&,
             const std::string&) override { add(k); }
  void field(const std::string& k, std::vector<double>&, const std::vector<double>&,
             const std::string&) override { add(k); }
  void field(const std::string& k, nlohmann::json&, const nlohmann::json&, const std::string&) override {
    add(k);
  }
  void choice(const std::string& k, std::string&, const std::string&, const std::vector<std::string>&,
              const std::string&) override { add(k); }
  void section(const std::string& k, const std::string&, const std::function<void(Fields&)>& s) override {
    prefix_.push_back(k);
    s(*this);
    prefix_.pop_back();
  }
  void list(const std::string& k, const std::string&, const ListAccess& a) override {
    prefix_.push_back(k + "[]");
    a.visit_prototype(*this);
    prefix_.pop_back();
  }

 private:
  void add(const std::string& k) {
    std::string full;
    for (const auto& p : prefix_) full += p + ".";
    keys.push_back(full + k);
  }
  std::vector<std::string> prefix_;
};

}  // namespace

void apply_defaults(const Describe& describe) {
  DefaultsVisitor v;
  describe(v);
}

std::vector<std::string> all_keys(const Describe& describe) {
  KeysVisitor v;
  describe(v);
  return v.keys;
}

}  // namespace grpo::config
