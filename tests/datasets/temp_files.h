// A per-test temporary directory for the dataset tests: files are written into it and it
// is removed when the test ends. Nothing here is shared with other modules' tests.
#pragma once

#include <gtest/gtest.h>

#include "core/filesystem.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace grpo::testing {

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("grpo-datasets-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    grpo::remove_tree(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { grpo::try_remove_tree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `contents` byte for byte to `name` inside the directory; returns its path.
  std::string write(const std::string& name, const std::string& contents) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << contents;
    return file.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace grpo::testing
