// Run store writer (background, batched transactions) and reader; see run_store.h.
#include "core/run_store.h"

#include <chrono>
#include <deque>
#include <limits>

#include "core/error.h"
#include "core/sqlite.h"
#include "core/strings.h"
#include "core/text/json_lossy.h"
#include "core/text/json_parse.h"
#include "core/text/utf8.h"

namespace grpo {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (step INTEGER NOT NULL, name TEXT NOT NULL, value REAL, wall_time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics (name, step);
CREATE TABLE IF NOT EXISTS samples (
  step INTEGER NOT NULL, prompt_index INTEGER NOT NULL, sample_index INTEGER NOT NULL,
  prompt TEXT NOT NULL, completion TEXT NOT NULL, rewards TEXT NOT NULL,
  reward REAL, advantage REAL, extra TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS samples_by_step ON samples (step);
CREATE TABLE IF NOT EXISTS histograms (step INTEGER NOT NULL, name TEXT NOT NULL, vals TEXT NOT NULL,
  wall_time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS histograms_by_name ON histograms (name, step);
CREATE TABLE IF NOT EXISTS events (wall_time REAL NOT NULL, step INTEGER NOT NULL, level TEXT NOT NULL,
  kind TEXT NOT NULL, message TEXT NOT NULL);
)sql";

// A JSON column of the samples table. The writer only stores valid JSON, so text that is not
// means a damaged or hand-edited file: the error names it, the column and the step.
nlohmann::json json_column(const sqlite::Statement& st, int column, const char* name, const std::string& path,
                           int64_t step) {
  try {
    return parse_untrusted_json(to_valid_utf8(st.column_text(column)), path);
  } catch (const Error& e) {
    throw Error(SourceLocation{path, 0, 0},
                std::string("samples.") + name + " of step " + std::to_string(step) + ": " + e.message());
  }
}

// A histograms.vals cell: a JSON array of numbers (null for a value that was not finite).
// Anything else means a damaged file; the error names it, the histogram and the step.
std::vector<double> histogram_values(const std::string& text, const std::string& path, const std::string& name,
                                     int64_t step) {
  const auto fail = [&](const std::string& what) {
    return Error(SourceLocation{path, 0, 0}, "histogram '" + to_valid_utf8(name) + "' of step " +
                                                 std::to_string(step) + ": " + what);
  };
  nlohmann::json parsed;
  try {
    parsed = parse_untrusted_json(to_valid_utf8(text), path);
  } catch (const Error& e) {
    throw fail(e.message());
  }
  if (!parsed.is_array()) throw fail("expected a JSON array of numbers");
  std::vector<double> values;
  values.reserve(parsed.size());
  for (const auto& v : parsed) {
    if (v.is_number()) values.push_back(v.get<double>());
    else if (v.is_null()) values.push_back(std::numeric_limits<double>::quiet_NaN());
    else throw fail("expected a JSON array of numbers, found " + std::string(v.type_name()));
  }
  return values;
}

}  // namespace

struct RunStoreWriter::Context {
  sqlite::Connection conn;
  bool schema_ready;
  sqlite::Statement put_meta, put_metric, put_histogram, put_sample, put_event;
  explicit Context(const std::string& path)
      : conn(path, /*read_only=*/false),
        schema_ready(init(conn)),
        put_meta(conn.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")),
        put_metric(conn.prepare("INSERT INTO metrics (step, name, value, wall_time) VALUES (?, ?, ?, ?)")),
        put_histogram(conn.prepare("INSERT INTO histograms (step, name, vals, wall_time) VALUES (?, ?, ?, ?)")),
        put_sample(conn.prepare(
            "INSERT INTO samples (step, prompt_index, sample_index, prompt, completion, rewards, reward, advantage, "
            "extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")),
        put_event(conn.prepare("INSERT INTO events (wall_time, step, level, kind, message) VALUES (?, ?, ?, ?, ?)")) {}

  static bool init(sqlite::Connection& c) {
    // WAL: readers never block the writer; NORMAL sync: a committed transaction survives a
    // process kill (only an OS crash can lose the last ones), at a fraction of FULL's cost.
    c.exec("PRAGMA journal_mode=WAL");
    c.exec("PRAGMA synchronous=NORMAL");
    c.exec(kSchema);
    c.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '" +
           std::to_string(kRunStoreSchemaVersion) + "')");
    return true;
  }
};

struct RunStoreWriter::Pending {
  std::mutex mutex;
  std::condition_variable wake, committed;
  std::deque<std::function<void(Context&)>> ops;
  uint64_t enqueued = 0, done = 0;
  bool stopping = false;
  std::exception_ptr failure;
};

RunStoreWriter::RunStoreWriter(const std::string& path, int flush_interval_ms)
    : path_(path), flush_interval_ms_(flush_interval_ms), pending_(std::make_unique<Pending>()) {
  // Open once here so that a bad path or a locked file fails in the caller, not the thread.
  { Context probe(path); }
  thread_ = std::thread([this] { writer_loop(); });
}

RunStoreWriter::~RunStoreWriter() {
  {
    std::lock_guard<std::mutex> lock(pending_->mutex);
    pending_->stopping = true;
  }
  pending_->wake.notify_all();
  thread_.join();
}

void RunStoreWriter::enqueue(std::function<void(Context&)> op) {
  std::lock_guard<std::mutex> lock(pending_->mutex);
  if (pending_->failure) std::rethrow_exception(pending_->failure);
  pending_->ops.push_back(std::move(op));
  ++pending_->enqueued;
}

void RunStoreWriter::writer_loop() {
  std::unique_ptr<Context> ctx;
  try {
    ctx = std::make_unique<Context>(path_);
  } catch (...) {
    std::lock_guard<std::mutex> lock(pending_->mutex);
    pending_->failure = std::current_exception();
    pending_->committed.notify_all();
    return;
  }
  for (;;) {
    std::deque<std::function<void(Context&)>> batch;
    uint64_t batch_end;
    bool stop;
    {
      std::unique_lock<std::mutex> lock(pending_->mutex);
      pending_->wake.wait_for(lock, std::chrono::milliseconds(flush_interval_ms_),
                              [this] { return pending_->stopping; });
      batch.swap(pending_->ops);
      batch_end = pending_->enqueued;
      stop = pending_->stopping;
    }
    if (!batch.empty()) {
      try {
        ctx->conn.exec("BEGIN IMMEDIATE");
        for (auto& op : batch) op(*ctx);
        ctx->conn.exec("COMMIT");
      } catch (...) {
        std::lock_guard<std::mutex> lock(pending_->mutex);
        pending_->failure = std::current_exception();
      }
    }
    {
      std::lock_guard<std::mutex> lock(pending_->mutex);
      pending_->done = batch_end;
    }
    pending_->committed.notify_all();
    if (stop) {
      std::lock_guard<std::mutex> lock(pending_->mutex);
      if (pending_->ops.empty()) return;
    }
  }
}

void RunStoreWriter::flush() {
  std::unique_lock<std::mutex> lock(pending_->mutex);
  const uint64_t target = pending_->enqueued;
  pending_->wake.notify_all();
  pending_->committed.wait(lock, [&] { return pending_->done >= target || pending_->failure; });
  if (pending_->failure) std::rethrow_exception(pending_->failure);
}

void RunStoreWriter::set_meta(const std::string& key, const std::string& value) {
  enqueue([key, value = to_valid_utf8(value)](Context& c) { c.put_meta.bind(1, key).bind(2, value).run(); });
}

void RunStoreWriter::log_metric(int64_t step, const std::string& name, double value) {
  const double t = now_seconds();
  enqueue([=](Context& c) { c.put_metric.bind(1, step).bind(2, name).bind(3, value).bind(4, t).run(); });
}

void RunStoreWriter::log_metrics(int64_t step, const std::map<std::string, double>& metrics) {
  const double t = now_seconds();
  enqueue([=](Context& c) {
    for (const auto& [name, value] : metrics) c.put_metric.bind(1, step).bind(2, name).bind(3, value).bind(4, t).run();
  });
}

void RunStoreWriter::log_histogram(int64_t step, const std::string& name, const std::vector<double>& values) {
  const double t = now_seconds();
  // nlohmann writes a non-finite double as null, which the reader turns back into NaN.
  enqueue([=, text = nlohmann::json(values).dump()](Context& c) {
    c.put_histogram.bind(1, step).bind(2, name).bind(3, text).bind(4, t).run();
  });
}

// Model text may be any bytes (a character cut in half by the sampler or by a reward's
// reason): it is stored with U+FFFD replacement here, in the caller's thread, so that nothing
// about one sample can fail the writer thread's batch. Exact tokens go in `extra` as ids.
void RunStoreWriter::log_samples(const std::vector<SampleRecord>& samples) {
  struct Row {
    int64_t step, prompt_index, sample_index;
    std::string prompt, completion, rewards;
    double reward, advantage;
    std::string extra;
  };
  std::vector<Row> rows;
  rows.reserve(samples.size());
  for (const auto& s : samples)
    rows.push_back({s.step, s.prompt_index, s.sample_index, to_valid_utf8(s.prompt), to_valid_utf8(s.completion),
                    json_dump_lossy(s.rewards), s.reward, s.advantage, json_dump_lossy(s.extra)});
  enqueue([rows = std::move(rows)](Context& c) {
    for (const auto& r : rows)
      c.put_sample.bind(1, r.step)
          .bind(2, r.prompt_index)
          .bind(3, r.sample_index)
          .bind(4, r.prompt)
          .bind(5, r.completion)
          .bind(6, r.rewards)
          .bind(7, r.reward)
          .bind(8, r.advantage)
          .bind(9, r.extra)
          .run();
  });
}

void RunStoreWriter::log_event(const std::string& level, const std::string& kind, const std::string& message,
                               int64_t step) {
  const double t = now_seconds();
  enqueue([=, message = to_valid_utf8(message)](Context& c) {
    c.put_event.bind(1, t).bind(2, step).bind(3, level).bind(4, kind).bind(5, message).run();
  });
}

void RunStoreWriter::truncate_after(int64_t step) {
  enqueue([step](Context& c) {
    for (const char* table : {"metrics", "histograms", "samples"}) {
      auto st = c.conn.prepare(std::string("DELETE FROM ") + table + " WHERE step > ?");
      st.bind(1, step).run();
    }
  });
}

// ---------------------------------------------------------------------------------------------

struct RunStoreReader::Impl {
  sqlite::Connection conn;
  explicit Impl(const std::string& path) : conn(path, /*read_only=*/true) {}
};

RunStoreReader::RunStoreReader(const std::string& path) : impl_(std::make_unique<Impl>(path)) {
  auto st = impl_->conn.prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!st.step()) throw Error(SourceLocation{path, 0, 0}, "not a grpo run database (no schema_version)");
  const std::string version_text = st.column_text(0);
  const auto parsed_version = parse_decimal(version_text);
  if (!parsed_version || *parsed_version > 1000000)
    throw Error(SourceLocation{path, 0, 0}, "run database schema_version '" + to_valid_utf8(version_text) +
                                                "' is not a version number");
  const int version = static_cast<int>(*parsed_version);
  if (version > kRunStoreSchemaVersion)
    throw Error(SourceLocation{path, 0, 0}, "run database schema version " + std::to_string(version) +
                                                " is newer than this grpo (" +
                                                std::to_string(kRunStoreSchemaVersion) + ")");
}

RunStoreReader::~RunStoreReader() = default;

std::optional<std::string> RunStoreReader::meta(const std::string& key) {
  auto st = impl_->conn.prepare("SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return to_valid_utf8(st.column_text(0));
}

std::optional<int64_t> RunStoreReader::last_step() {
  auto st = impl_->conn.prepare("SELECT MAX(step) FROM metrics");
  if (!st.step() || st.column_is_null(0)) return std::nullopt;
  return st.column_int(0);
}

std::vector<std::string> RunStoreReader::metric_names() {
  std::vector<std::string> names;
  auto st = impl_->conn.prepare("SELECT DISTINCT name FROM metrics ORDER BY name");
  while (st.step()) names.push_back(st.column_text(0));
  return names;
}

std::map<std::string, MetricPoint> RunStoreReader::latest_metrics() {
  std::map<std::string, MetricPoint> out;
  auto st = impl_->conn.prepare(
      "SELECT m.name, m.step, m.value, m.wall_time FROM metrics m JOIN "
      "(SELECT name, MAX(step) AS step FROM metrics GROUP BY name) last "
      "ON m.name = last.name AND m.step = last.step ORDER BY m.name");
  while (st.step()) out[st.column_text(0)] = {st.column_int(1), st.column_double(2), st.column_double(3)};
  return out;
}

std::vector<MetricPoint> RunStoreReader::metric_series(const std::string& name) {
  std::vector<MetricPoint> out;
  auto st = impl_->conn.prepare("SELECT step, value, wall_time FROM metrics WHERE name = ? ORDER BY step");
  st.bind(1, name);
  while (st.step()) out.push_back({st.column_int(0), st.column_double(1), st.column_double(2)});
  return out;
}

// Databases written before histograms existed have no table (the reader opens read-only, so
// the writer's CREATE IF NOT EXISTS has not run on them).
bool RunStoreReader::has_histograms() {
  auto st = impl_->conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'histograms'");
  return st.step();
}

std::vector<std::string> RunStoreReader::histogram_names() {
  std::vector<std::string> names;
  if (!has_histograms()) return names;
  auto st = impl_->conn.prepare("SELECT DISTINCT name FROM histograms ORDER BY name");
  while (st.step()) names.push_back(to_valid_utf8(st.column_text(0)));
  return names;
}

std::vector<std::pair<int64_t, std::vector<double>>> RunStoreReader::histogram_series(const std::string& name) {
  std::vector<std::pair<int64_t, std::vector<double>>> out;
  if (!has_histograms()) return out;
  auto st = impl_->conn.prepare("SELECT step, vals FROM histograms WHERE name = ? ORDER BY step, rowid");
  st.bind(1, name);
  while (st.step()) {
    const int64_t step = st.column_int(0);
    out.emplace_back(step, histogram_values(st.column_text(1), impl_->conn.path(), name, step));
  }
  return out;
}

std::vector<SampleRecord> RunStoreReader::samples(int64_t step_from, int64_t step_to, int64_t limit) {
  std::vector<SampleRecord> out;
  auto st = impl_->conn.prepare(
      "SELECT step, prompt_index, sample_index, prompt, completion, rewards, reward, advantage, extra FROM samples "
      "WHERE step BETWEEN ? AND ? ORDER BY step, prompt_index, sample_index LIMIT ?");
  st.bind(1, step_from).bind(2, step_to).bind(3, limit);
  while (st.step()) {
    SampleRecord s;
    s.step = st.column_int(0);
    s.prompt_index = st.column_int(1);
    s.sample_index = st.column_int(2);
    // Databases written before text was made valid on the way in may hold raw bytes.
    s.prompt = to_valid_utf8(st.column_text(3));
    s.completion = to_valid_utf8(st.column_text(4));
    s.rewards = json_column(st, 5, "rewards", impl_->conn.path(), s.step);
    s.reward = st.column_double(6);
    s.advantage = st.column_double(7);
    s.extra = json_column(st, 8, "extra", impl_->conn.path(), s.step);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<EventRecord> RunStoreReader::events(int64_t limit) {
  std::vector<EventRecord> out;
  auto st = impl_->conn.prepare(
      "SELECT wall_time, step, level, kind, message FROM events ORDER BY rowid DESC LIMIT ?");
  st.bind(1, limit);
  while (st.step())
    out.push_back({st.column_double(0), st.column_int(1), st.column_text(2), st.column_text(3), to_valid_utf8(st.column_text(4))});
  return out;
}

}  // namespace grpo
