// The text pieces every part of the report builds HTML from: escaping model text for element
// content and attributes, compact number formatting, and JSON that is safe inside a <script>
// element. Pure functions; they know nothing about runs or charts.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace grpo::report {

// `raw` escaped for HTML text and quoted attribute values (& < > " '); bytes that are not
// UTF-8 become U+FFFD first, so the page stays valid for its declared charset.
std::string escape_html(const std::string& raw);

// A value in at most 4 significant digits ("0.1235", "1.235e+04"); "nan", "inf" as C prints them.
std::string format_number(double value);

// `value` as JSON text to place inside <script type="application/json">: every '<' is written
// as \u003c, so no string in it (a completion holding "</script>" or "<!--") can end the
// element early. Parses back to the same value.
std::string json_for_script(const nlohmann::json& value);

}  // namespace grpo::report
