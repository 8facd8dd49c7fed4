// Formatting of grpo::Error locations.
#include "core/error.h"

namespace grpo {

std::string SourceLocation::str() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (line > 0 && column > 0) out += ":" + std::to_string(column);
  return out;
}

static std::string compose(const SourceLocation& where, const std::string& message) {
  const std::string loc = where.str();
  return loc.empty() ? message : loc + ": " + message;
}

Error::Error(const std::string& message) : std::runtime_error(message), message_(message) {}

Error::Error(const SourceLocation& where, const std::string& message)
    : std::runtime_error(compose(where, message)), where_(where), message_(message) {}

}  // namespace grpo
