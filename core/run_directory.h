// A run is a directory: config.yaml (resolved), run.db (the run store), run.log,
// checkpoints/step-N/, report.html. RunDirectory creates or reopens one, checks that it is
// writable, and holds an exclusive lock on it so that two processes never write one run.
#pragma once

#include <string>
#include <vector>

namespace grpo {

class RunDirectory {
 public:
  // resume=false: the directory must not already hold a run. resume=true: it must.
  static RunDirectory open(const std::string& path, bool resume);
  RunDirectory(RunDirectory&& other) noexcept;
  RunDirectory& operator=(RunDirectory&&) = delete;
  ~RunDirectory();

  const std::string& path() const { return path_; }
  std::string config_path() const { return path_ + "/config.yaml"; }
  std::string db_path() const { return path_ + "/run.db"; }
  std::string log_path() const { return path_ + "/run.log"; }
  std::string checkpoints_dir() const { return path_ + "/checkpoints"; }
  std::string report_path() const { return path_ + "/report.html"; }
  // Writes the resolved config atomically (temp file + rename).
  void save_config(const std::string& yaml_text) const;

 private:
  RunDirectory(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_ = -1;
};

// Directories at `root` (itself and its immediate children) that hold a run.db, sorted.
std::vector<std::string> find_runs(const std::string& root);
// Writes `text` to `path` via a temporary file and rename, so readers never see half a file.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace grpo
