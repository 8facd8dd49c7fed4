// Where the reference fixtures live, for parity tests: tests/fixtures in the source tree (see its
// README.md), or $GRPO_FIXTURES when set and not empty (another set of the same layout). They
// travel with the repository, so GRPO_REQUIRE_FIXTURES() fails, naming the folder, when there
// are none: a missing set is a broken checkout or a wrong GRPO_FIXTURES, not a reason to skip.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace grpo::testing {

inline std::filesystem::path fixtures_root() {
  if (const char* env = std::getenv("GRPO_FIXTURES"); env && *env) return env;
  return std::filesystem::path(GRPO_SOURCE_DIR) / "tests" / "fixtures";
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
      GTEST_FAIL() << "no fixtures under " << (::grpo::testing::fixtures_root() / kind)     \
                   << " (tests/fixtures of the checkout, or $GRPO_FIXTURES when set)";      \
  } while (0)
