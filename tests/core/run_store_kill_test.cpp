// A writer process killed with SIGKILL in the middle of writing leaves a database that
// passes PRAGMA integrity_check and holds every step whose flush() had returned.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/filesystem.h"
#include "core/run_store.h"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void writer_child(const std::string& db, int ack_fd) {
  grpo::RunStoreWriter w(db, /*flush_interval_ms=*/5);
  for (int64_t step = 1;; ++step) {
    std::map<std::string, double> m;
    for (int k = 0; k < 50; ++k) m["metric/" + std::to_string(k)] = step * 0.5 + k;
    w.log_metrics(step, m);
    grpo::SampleRecord s;
    s.step = step;
    s.completion = std::string(2000, 'x');
    w.log_samples(std::vector<grpo::SampleRecord>(8, s));
    w.flush();
    if (write(ack_fd, &step, sizeof step) != sizeof step) _exit(3);
    // Keep writing without waiting, so the kill lands inside a transaction most of the time.
    w.log_metrics(step, {{"in_flight", 1.0}});
  }
}

}  // namespace

TEST(RunStoreKill, SigkillDuringWritesKeepsEveryCommittedStep) {
  const auto dir = fs::temp_directory_path() / ("grpo_kill_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "run.db").string();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    writer_child(db, fds[1]);
  }
  close(fds[1]);
  int64_t acked = 0, step;
  while (acked < 40 && read(fds[0], &step, sizeof step) == sizeof step) acked = step;
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // Drain acknowledgements that arrived before the kill.
  while (read(fds[0], &step, sizeof step) == sizeof step) acked = step;
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_GE(acked, 40);

  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(handle);

  grpo::RunStoreReader r(db);
  ASSERT_TRUE(r.last_step().has_value());
  EXPECT_GE(*r.last_step(), acked);
  const auto series = r.metric_series("metric/7");
  // Every acknowledged step is present, in order, with its exact value.
  ASSERT_GE(static_cast<int64_t>(series.size()), acked);
  for (int64_t i = 0; i < acked; ++i) {
    EXPECT_EQ(series[i].step, i + 1);
    EXPECT_DOUBLE_EQ(series[i].value, (i + 1) * 0.5 + 7);
  }
  grpo::remove_tree(dir);
}
