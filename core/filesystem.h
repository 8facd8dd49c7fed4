// Filesystem helpers that every binary may call safely. Why not std::filesystem::remove_all:
// pip LibTorch 2.x (libtorch.so) exports its own copy of std::filesystem::remove_all, built
// against another libstdc++; an executable linked with it binds to that copy, which jumps to a
// null pointer (seen on the H100 machine with torch 2.11: every checkpoint pruning and test
// tear-down crashed). remove_tree walks the tree with POSIX nftw instead.
#pragma once

#include <filesystem>

namespace grpo {

// Removes `path` and everything under it (symlinks are removed, not followed). A missing path is
// not an error; any other failure is a grpo::Error naming the path.
void remove_tree(const std::filesystem::path& path);

// As remove_tree, but reports failure by returning false (for clean-up that must not throw).
bool try_remove_tree(const std::filesystem::path& path) noexcept;

}  // namespace grpo
