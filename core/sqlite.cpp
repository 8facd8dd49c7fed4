// SQLite RAII wrappers; see sqlite.h.
#include "core/sqlite.h"

#include "core/error.h"

namespace grpo::sqlite {

Connection::Connection(const std::string& path, bool read_only, int busy_timeout_ms) : path_(path) {
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(SourceLocation{path, 0, 0}, "cannot open run database: " + msg);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::fail(const std::string& what, int rc) {
  std::string msg = sqlite3_errmsg(db_);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    msg += " (the database is locked by another process; is another run using this directory?)";
  throw Error(SourceLocation{path_, 0, 0}, what + ": " + msg);
}

void Connection::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    fail("SQL failed (" + sql.substr(0, 60) + ")", rc);
  }
}

Statement Connection::prepare(const std::string& sql) { return Statement(*this, sql); }

Statement::Statement(Connection& conn, const std::string& sql) : conn_(&conn) {
  const int rc = sqlite3_prepare_v2(conn.raw(), sql.c_str(), -1, &stmt_, nullptr);
  if (rc != SQLITE_OK) conn.fail("cannot prepare SQL (" + sql.substr(0, 60) + ")", rc);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : conn_(other.conn_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement& Statement::bind(int index, int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
Statement& Statement::bind(int index, double v) {
  sqlite3_bind_double(stmt_, index, v);
  return *this;
}
Statement& Statement::bind(int index, const std::string& v) {
  sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_->fail("SQL step failed", rc);
}

void Statement::run() {
  step();
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
double Statement::column_double(int i) const { return sqlite3_column_double(stmt_, i); }
std::string Statement::column_text(int i) const {
  const auto* p = sqlite3_column_text(stmt_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, i)) : std::string();
}
bool Statement::column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

}  // namespace grpo::sqlite
