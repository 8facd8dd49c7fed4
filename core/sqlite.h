// A thin RAII layer over the SQLite C API: a connection and prepared statements that throw
// grpo::Error naming the database file and SQLite's message. Only what the run store needs.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace grpo::sqlite {

class Statement;

class Connection {
 public:
  // read_only opens without creating; busy_timeout_ms waits on locks before failing.
  Connection(const std::string& path, bool read_only, int busy_timeout_ms = 5000);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql);
  const std::string& path() const { return path_; }
  sqlite3* raw() { return db_; }
  [[noreturn]] void fail(const std::string& what, int rc);

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  Statement(Connection& conn, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;

  Statement& bind(int index, int64_t v);
  Statement& bind(int index, double v);
  Statement& bind(int index, const std::string& v);
  Statement& bind_null(int index);
  // True while a row is available.
  bool step();
  // Executes a statement that returns no rows, then resets it for reuse.
  void run();
  void reset();

  int64_t column_int(int i) const;
  double column_double(int i) const;
  std::string column_text(int i) const;
  bool column_is_null(int i) const;

 private:
  Connection* conn_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace grpo::sqlite
