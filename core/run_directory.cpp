// Run directory creation, locking and discovery; see run_directory.h.
#include "core/run_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace grpo {

void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(SourceLocation{path, 0, 0}, "cannot write file: " + std::string(std::strerror(errno)));
    out << text;
    out.flush();
    if (!out) throw Error(SourceLocation{path, 0, 0}, "write failed: " + std::string(std::strerror(errno)));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error(SourceLocation{path, 0, 0}, "cannot replace file: " + ec.message());
}

RunDirectory RunDirectory::open(const std::string& path, bool resume) {
  std::error_code ec;
  const bool has_run = fs::exists(fs::path(path) / "run.db", ec);
  if (resume && !has_run)
    throw Error(SourceLocation{path, 0, 0}, "--resume given but this directory holds no run (no run.db)");
  if (!resume && has_run)
    throw Error(SourceLocation{path, 0, 0},
                "this directory already holds a run; pass --resume to continue it or choose another --run-dir");
  fs::create_directories(path, ec);
  if (ec) throw Error(SourceLocation{path, 0, 0}, "cannot create run directory: " + ec.message());
  const std::string lock_path = path + "/.lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(SourceLocation{path, 0, 0}, "run directory is not writable: " + std::string(std::strerror(errno)));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw Error(SourceLocation{path, 0, 0}, "run directory is in use by another grpo process (locked)");
  }
  fs::create_directories(fs::path(path) / "checkpoints", ec);
  if (ec) {
    ::close(fd);
    throw Error(SourceLocation{path, 0, 0}, "cannot create checkpoints/: " + ec.message());
  }
  return RunDirectory(path, fd);
}

RunDirectory::RunDirectory(RunDirectory&& other) noexcept : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
  other.lock_fd_ = -1;
}

RunDirectory::~RunDirectory() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

void RunDirectory::save_config(const std::string& yaml_text) const { write_file_atomic(config_path(), yaml_text); }

std::vector<std::string> find_runs(const std::string& root) {
  std::vector<std::string> runs;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Error(SourceLocation{root, 0, 0}, "not a directory");
  if (fs::exists(fs::path(root) / "run.db")) runs.push_back(root);
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory() && fs::exists(e.path() / "run.db")) runs.push_back(e.path().string());
  std::sort(runs.begin(), runs.end());
  return runs;
}

}  // namespace grpo
