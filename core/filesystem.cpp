// See filesystem.h.
#include "core/filesystem.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace grpo {
namespace {

int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return std::remove(path) == 0 ? 0 : errno; }

// 0 on success (or when nothing is there), else an errno value.
int remove_tree_errno(const std::filesystem::path& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? 0 : errno;
  if (!S_ISDIR(st.st_mode)) return std::remove(path.c_str()) == 0 ? 0 : errno;
  // Depth first (children before their directory), physical (symlinks are not followed).
  const int rc = nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
  return rc == 0 ? 0 : (rc > 0 ? rc : errno);
}

}  // namespace

void remove_tree(const std::filesystem::path& path) {
  const int error = remove_tree_errno(path);
  if (error != 0) throw Error(path.string() + ": cannot remove: " + std::strerror(error));
}

bool try_remove_tree(const std::filesystem::path& path) noexcept { return remove_tree_errno(path) == 0; }

}  // namespace grpo
