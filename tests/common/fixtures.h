// Where the reference fixtures live, for parity tests. $GRPO_FIXTURES wins; otherwise
// ../shared/fixtures beside the source checkout. Tests call GRPO_REQUIRE_FIXTURES() to skip
// with a clear message when the folder is absent (e.g. a clone without ../shared).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace grpo::testing {

inline std::filesystem::path fixtures_root() {
  if (const char* env = std::getenv("GRPO_FIXTURES")) return env;
  return std::filesystem::path(GRPO_SOURCE_DIR) / ".." / "shared" / "fixtures";
}

// Every immediate subdirectory of fixtures_root()/kind, sorted (kind = "models" or "tokenizers").
inline std::vector<std::filesystem::path> fixture_dirs(const std::string& kind) {
  std::vector<std::filesystem::path> dirs;
  const auto root = fixtures_root() / kind;
  if (!std::filesystem::is_directory(root)) return dirs;
  for (const auto& e : std::filesystem::directory_iterator(root))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace grpo::testing

#define GRPO_REQUIRE_FIXTURES(kind)                                                         \
  do {                                                                                      \
    if (::grpo::testing::fixture_dirs(kind).empty())                                        \
      GTEST_SKIP() << "no fixtures under " << (::grpo::testing::fixtures_root() / kind)     \
                   << " (set GRPO_FIXTURES or place ../shared beside the checkout)";       \
  } while (0)
