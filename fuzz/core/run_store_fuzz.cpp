// libFuzzer target for reading a corrupted run database (core/run_store.h, report/report.h).
// Input: one selector byte (fuzz_input.h) picking what one execution reads, then the database
// file, which is written to disk and opened with RunStoreReader:
//   0  meta keys and the last step;       3  samples;
//   1  metric names, latest values and    4  events;
//      series;                            5  the HTML report, which reads it all again
//   2  histogram names and series;           through its own reader.
// SQLite itself is trusted; the code under test is ours, which must take any column type, NULL
// or garbage text SQLite hands back. Properties: a rejection is a grpo::Error naming the database
// file (anything else escaping is a finding); text handed out is valid UTF-8 where run_store.h
// promises it. (Order is not checked: a step column holding text sorts after every integer, as
// SQLite orders storage classes.) Seeds: real databases written by RunStoreWriter
// (run_store_seed.cpp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/run_store.h"
#include "core/text/utf8.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "report/report.h"

using grpo::fuzz::check;

namespace {

constexpr size_t kVariants = 6;
constexpr size_t kReportVariant = 5;

// The WAL and shared-memory files SQLite may leave beside the database, removed after each
// input so that no input sees another's leftovers.
void remove_leftovers(const std::string& path) {
  for (const char* suffix : {"-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
}

// One file per process (libFuzzer's -fork/-jobs workers share the directory), in /dev/shm when
// the machine has it (memory, not a disk, since every execution writes it), else in $TMPDIR or
// /tmp. It is rewritten in place for each input and removed when the process exits normally (a
// crashed process leaves its few KiB; a later process given the same id starts clean).
const std::string& database_path() {
  static const std::string path = [] {
    const char* tmpdir = std::getenv("TMPDIR");
    const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm"
                            : tmpdir && *tmpdir                      ? tmpdir
                                                                     : "/tmp";
    const std::string p = dir + "/run_store_fuzz." + std::to_string(::getpid()) + ".db";
    remove_leftovers(p);
    return p;
  }();
  // Registered after `path` is built, so it runs before `path` is destroyed.
  static const bool removed_at_exit = std::atexit([] { std::remove(database_path().c_str()); }) == 0;
  (void)removed_at_exit;
  return path;
}

void write_database(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, [&] { return "the input file " + path + " opens for writing"; });
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    check(n > 0, [&] { return "the input is written to " + path; });
    written += static_cast<size_t>(n);
  }
  ::close(fd);
}

void read_part(const std::string& path, size_t variant) {
  grpo::RunStoreReader reader(path);
  switch (variant) {
    case 0:
      for (const char* key : {"run_name", "status", "stage", "config", "schema_version"}) {
        const auto value = reader.meta(key);
        if (value) check(grpo::is_valid_utf8(*value), [&] { return std::string("meta '") + key + "' is valid UTF-8"; });
      }
      reader.last_step();
      break;
    case 1: {
      const auto names = reader.metric_names();
      reader.latest_metrics();
      for (size_t i = 0; i < std::min<size_t>(names.size(), 16); ++i) reader.metric_series(names[i]);
      break;
    }
    case 2: {
      const auto histograms = reader.histogram_names();
      for (const auto& name : histograms) check(grpo::is_valid_utf8(name), "a histogram name is valid UTF-8");
      for (size_t i = 0; i < std::min<size_t>(histograms.size(), 16); ++i) reader.histogram_series(histograms[i]);
      break;
    }
    case 3:
      for (const auto& s : reader.samples(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 64))
        check(grpo::is_valid_utf8(s.prompt) && grpo::is_valid_utf8(s.completion), "sample text is valid UTF-8");
      break;
    default:
      for (const auto& e : reader.events(64)) check(grpo::is_valid_utf8(e.message), "an event message is valid UTF-8");
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = database_path();
  const auto input = grpo::fuzz::select_variant(data, size, kVariants);
  write_database(path, input.rest);
  try {
    if (input.variant == kReportVariant) {
      grpo::report::render_report(path, grpo::report::ReportOptions{16, 16});
    } else {
      read_part(path, input.variant);
    }
  } catch (const grpo::Error& e) {
    check(std::string(e.what()).find(path) != std::string::npos,
          [&] { return "a rejection names the database: " + std::string(e.what()); });
  }
  remove_leftovers(path);
  return 0;
}
