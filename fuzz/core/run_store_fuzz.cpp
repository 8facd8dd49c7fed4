// libFuzzer target for reading a corrupted run database (core/run_store.h, report/report.h): the
// input is written to a file, opened with RunStoreReader and read through everything it offers
// (meta keys, steps, metric names, latest values, every series, histograms, samples, events) and rendered
// as the HTML report, which reads it all again. SQLite itself is trusted; the code under test is
// ours, which must take any column type, NULL or garbage text SQLite hands back. Properties: a
// rejection is a grpo::Error naming the database file (anything else escaping is a finding);
// text handed out is valid UTF-8 where run_store.h promises it. (Order is not checked: a step
// column holding text sorts after every integer, as SQLite orders storage classes.)
// Seeds: real databases written by RunStoreWriter (run_store_seed.cpp).
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/run_store.h"
#include "core/text/utf8.h"
#include "fuzz/fuzz_check.h"
#include "report/report.h"

using grpo::fuzz::check;

namespace {

// One file per process (libFuzzer's -fork/-jobs workers share the directory), with the WAL and
// shared-memory files SQLite may leave beside it removed before each input, so that no input
// sees another's leftovers.
const std::string& database_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/run_store_fuzz." + std::to_string(::getpid()) + ".db";
  }();
  return path;
}

void remove_leftovers(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
}

void read_everything(const std::string& path) {
  grpo::RunStoreReader reader(path);
  for (const char* key : {"run_name", "status", "stage", "config", "schema_version"}) {
    const auto value = reader.meta(key);
    if (value) check(grpo::is_valid_utf8(*value), std::string("meta '") + key + "' is valid UTF-8");
  }
  reader.last_step();
  const auto names = reader.metric_names();
  reader.latest_metrics();
  for (size_t i = 0; i < std::min<size_t>(names.size(), 16); ++i) reader.metric_series(names[i]);
  const auto histograms = reader.histogram_names();
  for (const auto& name : histograms) check(grpo::is_valid_utf8(name), "a histogram name is valid UTF-8");
  for (size_t i = 0; i < std::min<size_t>(histograms.size(), 16); ++i) reader.histogram_series(histograms[i]);
  for (const auto& s : reader.samples(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 64)) {
    check(grpo::is_valid_utf8(s.prompt) && grpo::is_valid_utf8(s.completion), "sample text is valid UTF-8");
  }
  for (const auto& e : reader.events(64)) check(grpo::is_valid_utf8(e.message), "an event message is valid UTF-8");
  grpo::report::render_report(path, grpo::report::ReportOptions{16, 16});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = database_path();
  remove_leftovers(path);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    check(static_cast<bool>(out), "the input is written to " + path);
  }
  try {
    read_everything(path);
  } catch (const grpo::Error& e) {
    check(std::string(e.what()).find(path) != std::string::npos, "a rejection names the database: " + std::string(e.what()));
  }
  remove_leftovers(path);
  return 0;
}
