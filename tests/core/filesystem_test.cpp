// remove_tree removes nested trees, removes a symlink without touching its target, treats a
// missing path as done, and names the path when it cannot remove it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/error.h"
#include "core/filesystem.h"

namespace fs = std::filesystem;

namespace {
fs::path scratch(const std::string& name) {
  auto p = fs::temp_directory_path() / ("grpo-fs-" + std::to_string(::getpid()) + "-" + name);
  grpo::remove_tree(p);
  fs::create_directories(p);
  return p;
}
}  // namespace

TEST(RemoveTree, RemovesNestedDirectoriesAndFiles) {
  const auto root = scratch("nested");
  fs::create_directories(root / "a" / "b" / "c");
  std::ofstream(root / "a" / "b" / "c" / "x.txt") << "x";
  std::ofstream(root / "a" / "y.txt") << "y";
  grpo::remove_tree(root);
  EXPECT_FALSE(fs::exists(root));
}

TEST(RemoveTree, RemovesASymlinkButNotItsTarget) {
  const auto root = scratch("link");
  const auto target = scratch("link-target");
  std::ofstream(target / "keep.txt") << "keep";
  fs::create_directory_symlink(target, root / "to-target");
  grpo::remove_tree(root);
  EXPECT_FALSE(fs::exists(root));
  EXPECT_TRUE(fs::exists(target / "keep.txt"));
  grpo::remove_tree(target);
}

TEST(RemoveTree, MissingPathIsNotAnErrorAndFailureNamesThePath) {
  const auto root = scratch("missing");
  EXPECT_NO_THROW(grpo::remove_tree(root / "not-there"));
  EXPECT_TRUE(grpo::try_remove_tree(root / "not-there"));
  if (::geteuid() == 0) {
    grpo::remove_tree(root);
    GTEST_SKIP() << "root ignores directory permissions";
  }
  fs::create_directories(root / "locked" / "inner");
  fs::permissions(root / "locked", fs::perms::owner_read | fs::perms::owner_exec);
  try {
    grpo::remove_tree(root / "locked");
    ADD_FAILURE() << "expected an error";
  } catch (const grpo::Error& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(grpo::try_remove_tree(root / "locked"));
  fs::permissions(root / "locked", fs::perms::owner_all);
  grpo::remove_tree(root);
}
