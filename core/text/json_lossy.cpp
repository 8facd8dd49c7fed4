// Lossy JSON serialization; see json_lossy.h. nlohmann's `replace` handler substitutes one
// U+FFFD per maximal invalid subsequence, the same rule as to_valid_utf8 (the unit tests hold
// both to Python's output), so this needs no pass of its own over the strings.
#include "core/text/json_lossy.h"

namespace grpo {

std::string json_dump_lossy(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

std::string json_dump_lossy(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace grpo
