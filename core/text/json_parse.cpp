// Depth-bounded JSON parsing; see json_parse.h. The bound is enforced in nlohmann's parser
// callback, which sees each container open with the depth of the containers around it.
#include "core/text/json_parse.h"

#include "core/error.h"

namespace grpo {
namespace {

struct TooDeep {};

}  // namespace

nlohmann::json parse_json_depth_bounded(const char* first, const char* last) {
  try {
    return nlohmann::json::parse(first, last, [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
      const bool opens =
          event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start;
      if (opens && depth >= kMaxJsonDepth) throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    throw Error("JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels (the limit for files read by grpo)");
  }
}

nlohmann::json parse_untrusted_json(const char* first, const char* last, const std::string& source,
                                    size_t first_offset) {
  const auto where = SourceLocation{source, 0, 0};
  try {
    return parse_json_depth_bounded(first, last);
  } catch (const Error& e) {
    throw Error(where, e.message());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(where, "bad JSON at byte offset " + std::to_string(first_offset + (e.byte > 0 ? e.byte - 1 : 0)) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond a double
    throw Error(where, std::string("bad JSON: ") + e.what());
  }
}

}  // namespace grpo
