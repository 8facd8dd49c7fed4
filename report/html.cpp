// Escaping and number formatting for the report; see html.h.
#include "report/html.h"

#include <cstdio>

#include "core/text/json_lossy.h"
#include "core/text/utf8.h"

namespace grpo::report {

std::string escape_html(const std::string& raw) {
  const std::string text = to_valid_utf8(raw);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", value);
  return buf;
}

std::string json_for_script(const nlohmann::json& value) {
  const std::string text = json_dump_lossy(value);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

}  // namespace grpo::report
