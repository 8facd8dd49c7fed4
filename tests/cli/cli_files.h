// Files for the CLI tests that drive the `grpo` binary: a fresh scratch directory per test and
// the records of a JSONL file the binary wrote. Test-only.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/filesystem.h"

namespace grpo::testing {

// temp/grpo_<prefix>_<name>_<pid>, emptied.
inline std::filesystem::path cli_scratch(const std::string& prefix, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("grpo_" + prefix + "_" + name + "_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// One JSON value per non-empty line.
inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace grpo::testing
