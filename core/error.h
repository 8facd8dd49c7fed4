// The one error type of grpo.cpp: a message a user can act on, plus where the problem is
// (a file, line and column when known). Every module throws this for bad input; the CLI
// prints what() on one line and exits non-zero. It does not carry stack traces or codes.
#pragma once

#include <stdexcept>
#include <string>

namespace grpo {

struct SourceLocation {
  std::string file;  // path, or a pseudo-source such as "<command line>"
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown
  std::string str() const;  // "file:line:column", omitting the unknown parts
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  Error(const SourceLocation& where, const std::string& message);
  const SourceLocation& where() const { return where_; }
  const std::string& message() const { return message_; }

 private:
  SourceLocation where_;
  std::string message_;
};

// Throws grpo::Error(message) when `condition` is false. For user-facing checks, not invariants.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace grpo
