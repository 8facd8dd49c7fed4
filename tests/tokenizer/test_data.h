// Shared helpers of the tokenizer tests: the tokenizer folders to check (the shared
// fixtures plus this folder's data/ variants) and reading their encode_cases.json.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/common/fixtures.h"

namespace grpo::testing {

// Tokenizer variants made with Hugging Face tokenizers by data/make_hf_cases.py.
inline std::vector<std::filesystem::path> local_tokenizer_dirs() {
  std::vector<std::filesystem::path> dirs;
  const auto root = std::filesystem::path(GRPO_SOURCE_DIR) / "tests" / "tokenizer" / "data";
  for (const auto& e : std::filesystem::directory_iterator(root))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace grpo::testing
