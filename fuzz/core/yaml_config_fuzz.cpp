// libFuzzer target for YAML configuration loading (core/config/config_io.h) with command-line
// overrides, on a config struct defined here that uses every kind of field (scalars, lists,
// choices, a free-form map, a nested section and a list of sections), since the full experiment
// config lives in rl/ (LibTorch). Input: the YAML document, then after a NUL byte one override
// per line. Properties: a rejection is a grpo::Error (a yaml-cpp or JSON exception escaping is a
// finding) naming the source or the command line; a loaded config prints back to YAML that
// loads again to the same YAML; anchors and aliases cannot make the loader allocate without
// bound (libFuzzer's -rss_limit_mb turns a blow-up into a finding).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config_io.h"
#include "core/error.h"
#include "fuzz/fuzz_check.h"

using grpo::fuzz::check;

namespace {

struct FuzzItem {
  std::string name;
  double weight = 1.0;
  nlohmann::json params = nlohmann::json::object();
};

void describe(grpo::config::Fields& f, FuzzItem& s) {
  f.field("name", s.name, "", "item name");
  f.field("weight", s.weight, 1.0, "item weight");
  f.field("params", s.params, nlohmann::json::object(), "free-form parameters");
}

struct FuzzSection {
  int64_t steps = 10;
  bool enabled = false;
  std::string mode = "a";
};

void describe(grpo::config::Fields& f, FuzzSection& s) {
  f.field("steps", s.steps, int64_t{10}, "steps");
  f.field("enabled", s.enabled, false, "enabled");
  f.choice("mode", s.mode, "a", {"a", "b", "c"}, "mode");
}

struct FuzzConfig {
  std::string name = "run";
  int32_t count = 3;
  double rate = 0.5;
  std::vector<std::string> tags;
  std::vector<double> values;
  nlohmann::json extra = nlohmann::json::object();
  FuzzSection section;
  std::vector<FuzzItem> items;
};

void describe(grpo::config::Fields& f, FuzzConfig& s) {
  f.field("name", s.name, "run", "run name");
  f.field("count", s.count, 3, "a 32-bit count");
  f.field("rate", s.rate, 0.5, "a rate");
  f.field("tags", s.tags, {}, "tags");
  f.field("values", s.values, {}, "values");
  f.field("extra", s.extra, nlohmann::json::object(), "free-form map");
  f.section("section", s.section, "a nested section");
  f.list("items", s.items, {}, "a list of sections");
}

const std::string kSource = "fuzz.yaml";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string yaml = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    const std::string rest = input.substr(nul + 1);
    size_t start = 0;
    for (size_t nl; (nl = rest.find('\n', start)) != std::string::npos; start = nl + 1)
      overrides.push_back(rest.substr(start, nl - start));
    overrides.push_back(rest.substr(start));
  }
  FuzzConfig cfg;
  try {
    cfg = grpo::config::load_string<FuzzConfig>(yaml, kSource, overrides);
  } catch (const grpo::Error& e) {
    const std::string what = e.what();
    check(what.find(kSource) != std::string::npos || what.find("<command line>") != std::string::npos,
          "a rejection names the source or the command line: " + what);
    return 0;
  }
  const std::string printed = grpo::config::to_yaml(cfg);
  try {
    auto again = grpo::config::load_string<FuzzConfig>(printed, "printed.yaml");
    check(grpo::config::to_yaml(again) == printed, "a printed config loads back to the same config");
  } catch (const grpo::Error& e) {
    grpo::fuzz::fail("a printed config loads again: " + std::string(e.what()) + "\n" + printed);
  }
  return 0;
}
